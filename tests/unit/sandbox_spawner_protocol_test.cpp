// Spawner wire protocol: request/reply round trips, malformed input, fd passing.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/spawner_protocol.h"

namespace sbx::sandbox::proto {
namespace {

TEST(SpawnerProtocol, RequestRoundTrip) {
    ZygoteSpec spec;
    spec.mode = "cold";
    spec.preload = {"numpy", "pandas"};
    spec.python = "/usr/bin/python3.11";
    spec.runtime_dir = "/opt/rt";
    spec.script = "z.py";
    spec.uid_base = 42;
    spec.uid_count = 24;
    spec.user_limits = {"max_inotify_instances=5", "max_fanotify_groups=0"};
    spec.tmp_bytes = 7;
    spec.extra_env = {"A=1", ""};
    spec.fault_injection = 5;
    auto back = decode_request(encode_request(spec));
    ASSERT_TRUE(back) << back.error().render();
    EXPECT_EQ(back->mode, "cold");
    EXPECT_EQ(back->preload, spec.preload);
    EXPECT_EQ(back->python, spec.python);
    EXPECT_EQ(back->runtime_dir, spec.runtime_dir);
    EXPECT_EQ(back->script, "z.py");
    EXPECT_EQ(back->uid_base, 42U);
    EXPECT_EQ(back->uid_count, 24U);
    EXPECT_EQ(back->user_limits, spec.user_limits);
    EXPECT_EQ(back->tmp_bytes, 7U);
    EXPECT_EQ(back->extra_env, spec.extra_env);
    EXPECT_EQ(back->fault_injection, 5);
    EXPECT_EQ(decode_request(encode_request(ZygoteSpec{}))->fault_injection, -1);
}

TEST(SpawnerProtocol, MalformedInputIsAProtocolError) {
    const std::string good = encode_request(ZygoteSpec{});
    for (std::size_t cut : {std::size_t{0}, std::size_t{3}, good.size() - 1}) {
        auto r = decode_request(std::string_view{good}.substr(0, cut));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().step, sys::Step::spawner_protocol);
    }
    EXPECT_FALSE(decode_request(good + "x"));
    std::string huge(8, '\xff');  // a length of 2^64-1 must not allocate or read past the end
    EXPECT_FALSE(decode_request(huge));
}

TEST(SpawnerProtocol, ReplyRoundTripWithFailure) {
    Reply r;
    r.pid = 1234;
    r.failure = sys::SysError{sys::Step::pivot_root, EPERM, "/stage"};
    auto back = decode_reply(encode_reply(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->pid, 1234);
    ASSERT_TRUE(back->failure);
    EXPECT_EQ(back->failure->render(), "pivot_root: EPERM (Operation not permitted) [/stage]");
}

TEST(SpawnerProtocol, PacketCarriesFds) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    sys::UniqueFd a{sv[0]}, b{sv[1]};
    const int fds[] = {0, 1};
    ASSERT_TRUE(send_packet(a.get(), "hello", fds));
    auto p = recv_packet(b.get(), 2);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->bytes, "hello");
    EXPECT_EQ(p->fds.size(), 2U);
    a.reset();
    auto eof = recv_packet(b.get(), 2);
    ASSERT_TRUE(eof);
    EXPECT_TRUE(eof->eof);
}

}  // namespace
}  // namespace sbx::sandbox::proto
