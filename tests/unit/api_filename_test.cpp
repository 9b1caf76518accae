// Input file names: safe relative paths only.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sbx::api
