// In-process server on a free port with a fake engine, shared by the HTTP server tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>
#include <vector>

#include "api/routes.h"
#include "http/server.h"

namespace sbx::http::test_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class SlowService : public pool::RunService {
   public:
    std::atomic<bool> started{false}, cancelled{false};
    std::chrono::milliseconds delay{0};

    asio::awaitable<pool::RunReply> run(sandbox::RunRequest) override {
        started = true;
        if (delay.count() > 0) {
            asio::steady_timer t(co_await asio::this_coro::executor, delay);
            try {
                auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
                if (ec) throw boost::system::system_error(ec);
            } catch (...) {
                cancelled = true;
                throw;
            }
        }
        pool::RunReply reply;
        reply.outcome.verdict = sandbox::Verdict::ok;
        reply.outcome.exit_code = 0;
        co_return reply;
    }
    pool::HealthReport health() const override { return {}; }
};

class ServerTest : public ::testing::Test {
   protected:
    // Settings a test fixture changes before the server starts.
    virtual void configure() {}
    // The handler the server runs: the API's, unless a fixture adds routes of its own.
    virtual Handler handler() { return api::make_handler(service, cfg); }

    void SetUp() override {
        cfg.host = "127.0.0.1";
        cfg.port = 0;
        cfg.max_body_bytes = 4096;
        cfg.http_header_timeout = 1s;
        cfg.http_read_timeout = 3s;
        cfg.http_idle_timeout = 1s;
        cfg.max_connections = 4;
        configure();
        server = std::make_unique<Server>(io, cfg, handler());
        auto bound = server->start();
        ASSERT_TRUE(bound);
        port = *bound;
        thread = std::thread([this] { io.run(); });
    }
    void TearDown() override {
        if (server) server->stop();
        work.reset();
        io.stop();
        if (thread.joinable()) thread.join();
    }

    tcp::socket connect() {
        tcp::socket s(client_io);
        s.connect({asio::ip::address_v4::loopback(), port});
        timeval tv{5, 0};  // no test may hang on a broken server
        ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return s;
    }
    static Response roundtrip(tcp::socket& s, Request req) {
        req.prepare_payload();
        bhttp::write(s, req);
        beast::flat_buffer buf;
        Response res;
        bhttp::read(s, buf, res);
        return res;
    }
    static Request get(std::string target) {
        Request req{bhttp::verb::get, target, 11};
        req.set(bhttp::field::host, "localhost");
        return req;
    }

    config::Config cfg;
    SlowService service;
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    asio::io_context client_io;
    std::unique_ptr<Server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

// Reads until EOF or reset; how long that took (SO_RCVTIMEO of connect() caps it at 5 s).
inline std::chrono::steady_clock::duration time_to_close(tcp::socket& s) {
    auto start = std::chrono::steady_clock::now();
    std::array<char, 256> sink{};
    boost::system::error_code ec;
    while (!ec) s.read_some(asio::buffer(sink), ec);
    return std::chrono::steady_clock::now() - start;
}

}  // namespace sbx::http::test_server
