// UidRangeLock: servers' id blocks announced as abstract unix sockets; overlaps refused.
#include "sandbox/uid_range.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace sbx::sandbox {
namespace {

// A test prefix of our own: real servers on this host must not be seen, nor see us.
std::string prefix() { return "pysandbox-unit-" + std::to_string(::getpid()) + "/uid-range"; }

// Another "server": a child process holding the block [first, first + count) until released.
class OtherServer {
public:
    OtherServer(const std::string& p, std::uint32_t first, std::uint32_t count) {
        int to_child[2], from_child[2];
        EXPECT_EQ(::pipe(to_child), 0);
        EXPECT_EQ(::pipe(from_child), 0);
        pid_ = ::fork();
        if (pid_ == 0) {
            // Without its own copy of the write end, the child sees EOF when the parent closes.
            ::close(to_child[1]);
            ::close(from_child[0]);
            std::string shared;
            auto lock = UidRangeLock::acquire(p, first, count, shared);
            const char ok = lock ? 'y' : 'n';
            (void)!::write(from_child[1], &ok, 1);
            char c = 0;
            (void)!::read(to_child[0], &c, 1);  // hold until the parent says so
            ::_exit(0);
        }
        ::close(to_child[0]);
        ::close(from_child[1]);
        release_ = to_child[1];
        char ok = 0;
        EXPECT_EQ(::read(from_child[0], &ok, 1), 1);
        EXPECT_EQ(ok, 'y');
        ::close(from_child[0]);
    }
    ~OtherServer() {
        ::close(release_);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    OtherServer(const OtherServer&) = delete;
    OtherServer& operator=(const OtherServer&) = delete;
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int release_ = -1;
};

TEST(UidRangeLock, OverlappingBlocksOfLiveServersAreRefused) {
    std::string shared;
    {
        const OtherServer other(prefix(), 2'000'000, 5120);
        auto overlap = UidRangeLock::acquire(prefix(), 2'004'000, 5120, shared);
        ASSERT_FALSE(overlap);
        EXPECT_EQ(overlap.error().step, sys::Step::uid_pool);
        EXPECT_EQ(overlap.error().err, EADDRINUSE);
        EXPECT_NE(overlap.error().detail.find("pid " + std::to_string(other.pid())),
                  std::string::npos)
            << overlap.error().detail;
        EXPECT_TRUE(UidRangeLock::acquire(prefix(), 2'005'120, 5120, shared));  // adjacent
        EXPECT_TRUE(shared.empty());
        // The very same block: allowed, reported so that the caller can warn.
        EXPECT_TRUE(UidRangeLock::acquire(prefix(), 2'000'000, 5120, shared));
        EXPECT_NE(shared.find("2000000-2005119"), std::string::npos) << shared;
    }
    // Its server gone, the block is free: nothing was left behind.
    shared.clear();
    EXPECT_TRUE(UidRangeLock::acquire(prefix(), 2'004'000, 5120, shared));
    EXPECT_TRUE(shared.empty());
}

TEST(UidRangeLock, ServersOfOtherPrefixesAreNotSeen) {
    const OtherServer other(prefix() + "-other", 3'000'000, 5120);
    std::string shared;
    EXPECT_TRUE(UidRangeLock::acquire(prefix(), 3'000'000, 5120, shared));
    EXPECT_TRUE(shared.empty());
}

}  // namespace
}  // namespace sbx::sandbox
