// Input file names: safe relative paths only.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "api/filename.h"

namespace sbx::api {
namespace {

TEST(FilenameProblem, AcceptsSafeNames) {
    for (const char* ok : {"data.txt", "data/in.csv", "a/b/c/d.bin", ".hidden", "..x", "x..",
                           "名前.txt", "with space.txt", "sub/main.py"}) {
        EXPECT_FALSE(filename_problem(ok)) << ok;
    }
    EXPECT_FALSE(filename_problem(std::string(255, 'a')));
}

TEST(FilenameProblem, RejectsUnsafeNames) {
    for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a/..", "..", ".", "./a", "a//b",
                            "a/", "a\\b", "a\tb", "a\nb", "a\x7f", "main.py"}) {
        EXPECT_TRUE(filename_problem(bad)) << bad;
    }
    EXPECT_TRUE(filename_problem(std::string("a\0b", 3)));
    EXPECT_TRUE(filename_problem(std::string(256, 'a')));
}

TEST(FilenameProblem, ReasonsAreSpecific) {
    EXPECT_EQ(*filename_problem("/x"), "absolute paths are not allowed");
    EXPECT_EQ(*filename_problem("a/../b"), "'.' and '..' path segments are not allowed");
    EXPECT_EQ(*filename_problem("main.py"), "'main.py' is reserved for the submitted code");
}

TEST(FilenameConflict, FileUsedAsDirectoryInAnyOrder) {
    using Names = std::vector<std::string_view>;
    EXPECT_FALSE(filename_conflict(Names{"a", "b/c", "b/d", "sub/main.py", "ab/c"}));
    for (const Names& names : {Names{"a", "a/b"}, Names{"a/b", "a"}}) {
        auto c = filename_conflict(names);
        ASSERT_TRUE(c) << names[0];
        EXPECT_EQ(c->name, "a/b");
        EXPECT_EQ(c->reason, "'a' is an input file, not a directory");
    }
    for (const Names& names : {Names{"x/y", "x/y/z/w"}, Names{"x/y/z/w", "q", "x/y"}}) {
        auto c = filename_conflict(names);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->name, "x/y/z/w");
        EXPECT_EQ(c->reason, "'x/y' is an input file, not a directory");
    }
}

TEST(FilenameConflict, MainPyIsNotADirectory) {
    auto c = filename_conflict(std::vector<std::string_view>{"ok.txt", "main.py/x"});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->name, "main.py/x");
    EXPECT_EQ(c->reason, "'main.py' is the submitted code, not a directory");
}

}  // namespace
}  // namespace sbx::api
