// Run protocol codec: each message encodes to the shared vectors (the Python side is tested
// against the same file) and decodes back; malformed messages are protocol errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "pool/channel.h"
#include "pool/end_pipe.h"
#include "pool/run_protocol.h"

namespace sbx::pool {
namespace {
namespace json = boost::json;

const json::object& vectors() {
    static const json::object v = [] {
        std::ifstream in(std::string(SBX_SOURCE_DIR) + "/tests/fixtures/run_protocol_vectors.json");
        std::stringstream s;
        s << in.rdbuf();
        return json::parse(s.str()).as_object();
    }();
    return v;
}
const json::object& vector(std::string_view name) {
    return vectors().at("messages").as_object().at(name).as_object();
}

Message as_message(const json::object& body) { return Message{body, {}}; }

TEST(RunProtocol, ZygoteReadyRoundTrips) {
    ZygoteReadyMessage m{
        "3.11.2", {"numpy"}, {{"scipy", "ImportError: x"}}, {{"numpy", "1.24.2"}}, 412};
    EXPECT_EQ(encode(m), vector("zygote_ready"));
    auto back = decode_zygote_ready(vector("zygote_ready"));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->python, "3.11.2");
    EXPECT_EQ(back->preloaded, std::vector<std::string>{"numpy"});
    EXPECT_EQ(back->failed.at("scipy"), "ImportError: x");
    EXPECT_EQ(back->packages.at("numpy"), "1.24.2");
    EXPECT_EQ(back->seccomp_instructions, 412U);
    EXPECT_FALSE(decode_zygote_ready(json::object{{"type", "pong"}}));
}

TEST(RunProtocol, RunMessageRoundTrips) {
    RunMessage m;
    m.id = "r17";
    m.uid = m.gid = 1000;
    m.outer_uid = m.outer_gid = 1003;
    m.nproc = 64;
    m.sigpending = 2409;
    m.msgqueue = 20480;
    m.memlock = 209715;
    m.socket_buffer_max = 4194304;
    m.workdir_bytes = m.tmp_bytes = m.fsize = 104857600;
    m.workdir_inodes = 10000;
    m.nofile = 256;
    m.as_bytes = 0;
    m.policy = "standard";
    m.fds = {"run", "stdout", "stderr", "end", "stdin", "cgroup"};
    EXPECT_EQ(encode(m), vector("run"));
    auto back = decode_run(encode(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(encode(*back), encode(m));
    EXPECT_FALSE(decode_run(json::object{{"type", "run"}, {"fds", json::array{1}}}));
}

TEST(RunProtocol, SmallMessages) {
    EXPECT_EQ(encode(RunReadyMessage{}), vector("run_ready"));
    EXPECT_EQ(encode(GoMessage{}), vector("go"));
    EXPECT_EQ(encode(PolicyMessage{"Security policy violation: import of 'ctypes' is not allowed"}),
              vector("policy"));
    EXPECT_EQ(encode(ErrorMessage{"mount_tmpfs", 1, "/work"}), vector("error"));
    auto err = decode_error(vector("error"));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->step, "mount_tmpfs");
    EXPECT_EQ(err->err, 1);
}

TEST(RunProtocol, RunEventsDecode) {
    EXPECT_EQ(encode(ExitMessage{3, std::nullopt, 0.25}), vector("exit_code"));
    EXPECT_EQ(encode(ExitMessage{std::nullopt, 9, 1.5}), vector("exit_signal"));
    auto exit = std::get<ExitMessage>(decode_run_event(as_message(vector("exit_code"))));
    EXPECT_EQ(exit.exit_code, 3);
    EXPECT_FALSE(exit.signal);
    EXPECT_DOUBLE_EQ(exit.cpu_time_s.value_or(0), 0.25);
    auto killed = std::get<ExitMessage>(decode_run_event(as_message(vector("exit_signal"))));
    EXPECT_EQ(killed.signal, 9);
    EXPECT_FALSE(killed.exit_code);
    auto policy = std::get<PolicyMessage>(decode_run_event(as_message(vector("policy"))));
    EXPECT_NE(policy.message.find("ctypes"), std::string::npos);
    auto error = std::get<sys::SysError>(decode_run_event(as_message(vector("error"))));
    EXPECT_EQ(error.step, sys::Step::mount_tmpfs);
    EXPECT_EQ(error.err, 1);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(
        decode_run_event(as_message(json::object{{"type", "pong"}}))));
}

TEST(RunProtocol, EndRecordsMatchTheVectors) {
    const auto& records = vectors().at("end_records").as_object();
    EXPECT_EQ(encode_end_status(0), records.at("end_0").as_string());
    EXPECT_EQ(encode_end_status(255), records.at("end_255").as_string());
    EXPECT_EQ(encode_end_record(kFlushedKind, ""), records.at("flushed").as_string());
}

}  // namespace
}  // namespace sbx::pool
