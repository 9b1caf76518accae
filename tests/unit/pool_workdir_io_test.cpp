// Work-dir I/O: inputs written beneath the dir fd; outputs collected without following links.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pool/workdir_io.h"
#include "sys/unique_fd.h"

namespace sbx::pool {
namespace {
namespace fs = std::filesystem;

class WorkdirIo : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("sbx-workdir-test-" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        fd_ = sys::UniqueFd{::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        ASSERT_TRUE(fd_.valid());
    }
    void TearDown() override { fs::remove_all(dir_); }
    static std::string slurp(const fs::path& p) {
        std::ifstream in(p, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), {}};
    }
    Owner me() const { return Owner{::getuid(), ::getgid()}; }

    fs::path dir_;
    sys::UniqueFd fd_;
};

TEST_F(WorkdirIo, WritesNestedAndBinaryInputs) {
    const std::string binary("\0\x01\xff\x80", 4);
    std::vector<sandbox::InputFile> in{{"main.py", "print(1)"}, {"data/in.csv", "a,b\n"}, {"data/deep/x.bin", binary}};
    ASSERT_TRUE(write_inputs(fd_.get(), in, me()));
    EXPECT_EQ(slurp(dir_ / "main.py"), "print(1)");
    EXPECT_EQ(slurp(dir_ / "data/in.csv"), "a,b\n");
    EXPECT_EQ(slurp(dir_ / "data/deep/x.bin"), binary);
}

TEST_F(WorkdirIo, RefusesToWriteThroughASymlink) {
    fs::create_directory_symlink("/etc", dir_ / "evil");
    auto r = write_inputs(fd_.get(), {{"evil/passwd2", "x"}}, me());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().step, sys::Step::write_input);
    EXPECT_FALSE(fs::exists("/etc/passwd2"));
    auto existing = write_inputs(fd_.get(), {{"f", "1"}}, me());
    ASSERT_TRUE(existing);
    EXPECT_FALSE(write_inputs(fd_.get(), {{"f", "2"}}, me()));  // O_EXCL: never overwrites
}

TEST_F(WorkdirIo, CollectsNewAndChangedFilesOnly) {
    std::vector<sandbox::InputFile> in{{"same.txt", "same"}, {"changed.txt", "old"}};
    ASSERT_TRUE(write_inputs(fd_.get(), in, me()));
    std::ofstream(dir_ / "changed.txt") << "new";
    std::ofstream(dir_ / "main.py") << "print(1)";
    fs::create_directories(dir_ / "out/sub");
    std::ofstream(dir_ / "out/sub/r.json") << "{}";
    std::ofstream(dir_ / "empty.txt");
    auto c = collect_outputs(fd_.get(), in, {"main.py"}, CollectLimits{});
    std::vector<std::string> names;
    for (const auto& f : c.files) names.push_back(f.name);
    EXPECT_EQ(names, (std::vector<std::string>{"changed.txt", "empty.txt", "out/sub/r.json"}));
    EXPECT_EQ(c.files[0].content, "new");
    EXPECT_EQ(c.files[1].content, "");
    EXPECT_TRUE(c.warnings.empty());
}

TEST_F(WorkdirIo, SkipsSymlinksFifosAndReportsThem) {
    fs::create_symlink("/etc/passwd", dir_ / "link");
    fs::create_directory_symlink("/etc", dir_ / "dirlink");
    ASSERT_EQ(::mkfifo((dir_ / "pipe").c_str(), 0644), 0);
    auto c = collect_outputs(fd_.get(), {}, {}, CollectLimits{});
    EXPECT_TRUE(c.files.empty());
    ASSERT_EQ(c.warnings.size(), 3U);
    EXPECT_NE(c.warnings[0].find("dirlink"), std::string::npos);
    EXPECT_NE(c.warnings[0].find("symbolic link"), std::string::npos);
    EXPECT_NE(c.warnings[2].find("pipe"), std::string::npos);
}

TEST_F(WorkdirIo, LimitsCountSizeAndDepth) {
    for (int i = 0; i < 5; ++i) std::ofstream(dir_ / ("f" + std::to_string(i))) << std::string(100, 'x');
    auto by_count = collect_outputs(fd_.get(), {}, {}, CollectLimits{3, 1 << 20, 32});
    EXPECT_EQ(by_count.files.size(), 3U);
    EXPECT_EQ(by_count.warnings.size(), 2U);
    auto by_size = collect_outputs(fd_.get(), {}, {}, CollectLimits{100, 250, 32});
    EXPECT_EQ(by_size.files.size(), 2U);
    fs::create_directories(dir_ / "a/b/c");
    std::ofstream(dir_ / "a/b/c/deep") << "d";
    auto by_depth = collect_outputs(fd_.get(), {}, {}, CollectLimits{100, 1 << 20, 1});
    for (const auto& f : by_depth.files) EXPECT_EQ(f.name.find("a/b/c"), std::string::npos);
}

}  // namespace
}  // namespace sbx::pool
