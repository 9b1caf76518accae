// Channel: JSON datagrams with attached fds over SOCK_SEQPACKET; EOF and garbage detection.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "pool/channel.h"

namespace sbx::pool {
namespace {
namespace asio = boost::asio;

TEST(Channel, CarriesJsonAndFds) {
    auto pair = sys::seqpacket_pair();
    ASSERT_TRUE(pair);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    sys::UniqueFd r{p[0]}, w{p[1]};
    const int fds[] = {w.get()};
    ASSERT_TRUE(send_message(pair->first.get(), boost::json::object{{"type", "ready"}, {"n", 7}}, fds));
    w.reset();
    auto got = try_receive(pair->second.get(), sys::Step::run_protocol);
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ((*got)->type(), "ready");
    EXPECT_EQ((*got)->body.at("n").as_int64(), 7);
    ASSERT_EQ((*got)->fds.size(), 1U);
    EXPECT_EQ(::fcntl((*got)->fds[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    ASSERT_EQ(::write((*got)->fds[0].get(), "x", 1), 1);  // the received fd is the pipe's write end
    char c = 0;
    EXPECT_EQ(::read(r.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(Channel, NothingQueuedEofAndGarbage) {
    auto pair = sys::seqpacket_pair();
    ASSERT_TRUE(pair);
    auto none = try_receive(pair->second.get(), sys::Step::run_protocol);
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    ASSERT_EQ(::send(pair->first.get(), "not json", 8, 0), 8);
    auto bad = try_receive(pair->second.get(), sys::Step::run_protocol);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().err, EPROTO);
    pair->first.reset();
    auto eof = try_receive(pair->second.get(), sys::Step::run_protocol);
    ASSERT_FALSE(eof);
    EXPECT_TRUE(is_eof(eof.error()));
}

TEST(Channel, AsyncReceiveWaitsForTheMessage) {
    asio::io_context io;
    auto pair = sys::seqpacket_pair();
    ASSERT_TRUE(pair);
    Channel ch(io.get_executor(), std::move(pair->second), sys::Step::run_protocol);
    std::optional<sys::Result<Message>> got;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { got = co_await ch.receive(); }, asio::detached);
    io.run_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(got.has_value());
    ASSERT_TRUE(send_message(pair->first.get(), boost::json::object{{"type", "exit"}}));
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(got.has_value());
    ASSERT_TRUE(*got);
    EXPECT_EQ((**got).type(), "exit");
}

}  // namespace
}  // namespace sbx::pool
