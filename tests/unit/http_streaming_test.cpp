// Streamed responses and WebSocket takeovers on test routes registered here (no API route uses
// them yet): backpressure from a slow reader, cancellation on disconnect, framing, Origin checks,
// message limits.
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <string>

#include "http_test_server.h"

namespace sbx::http {
namespace {

using namespace test_server;  // NOLINT(google-build-using-namespace): the fixture's names
namespace websocket = boost::beast::websocket;

constexpr std::size_t kPiece = 64 * 1024;

// What the test routes saw, written on the server's thread and read by the test.
struct Probe {
    std::atomic<std::uint64_t> produced{0};  // body bytes a producer had handed over
    std::atomic<int> producers{0};           // producers started
    std::atomic<bool> aborted{false};        // a producer saw its awaits fail (cancel or reset)
};

char pattern(std::uint64_t i) { return static_cast<char>('a' + i % 26); }

// GET /test/stream?<total>: `total` body bytes (the pattern) in pieces of kPiece.
Handler stream_route(Probe& probe) {
    return [&probe](RequestContext&, Request req) -> asio::awaitable<Reply> {
        std::uint64_t total = std::stoull(std::string(Router::query_of(req.target()).substr(1)));
        StreamingResponse reply;
        reply.head.set(bhttp::field::content_type, "text/plain");
        reply.produce = [&probe, total](BodyWriter& out) -> asio::awaitable<void> {
            ++probe.producers;
            std::string piece;
            try {
                for (std::uint64_t sent = 0; sent < total; sent += piece.size()) {
                    piece.clear();
                    for (std::uint64_t i = sent; i < std::min(total, sent + kPiece); ++i) {
                        piece += pattern(i);
                    }
                    co_await out.write(piece);
                    probe.produced = out.bytes_written();
                }
            } catch (...) {
                probe.aborted = true;
                throw;
            }
        };
        co_return reply;
    };
}

// GET /test/wait: "first", then waits 30 s for a next piece that never comes.
Handler wait_route(Probe& probe) {
    return [&probe](RequestContext&, Request) -> asio::awaitable<Reply> {
        StreamingResponse reply;
        reply.produce = [&probe](BodyWriter& out) -> asio::awaitable<void> {
            ++probe.producers;
            co_await out.write("first");
            asio::steady_timer t(co_await asio::this_coro::executor, 30s);
            try {
                co_await t.async_wait(asio::use_awaitable);
            } catch (...) {
                probe.aborted = true;
                throw;
            }
            co_await out.write("never");
        };
        co_return reply;
    };
}

// GET /test/fail: one piece, then a bug.
Handler fail_route() {
    return [](RequestContext&, Request) -> asio::awaitable<Reply> {
        StreamingResponse reply;
        reply.produce = [](BodyWriter& out) -> asio::awaitable<void> {
            co_await out.write("partial");
            throw std::runtime_error("producer bug");
        };
        co_return reply;
    };
}

// GET /test/ws: echoes text messages until the peer closes or a read fails.
Handler echo_route() {
    return [](RequestContext&, Request) -> asio::awaitable<Reply> {
        co_return WebSocketTakeover{[](WebSocket& ws) -> asio::awaitable<void> {
            beast::flat_buffer buf;
            for (;;) {
                auto [ec, n] = co_await ws.async_read(buf, asio::as_tuple(asio::use_awaitable));
                if (ec) co_return;
                ws.text(ws.got_text());
                co_await ws.async_write(buf.data(), asio::use_awaitable);
                buf.consume(n);
            }
        }};
    };
}

// GET /test/bye: says "bye" and returns: the server closes the WebSocket with 1000.
Handler bye_route() {
    return [](RequestContext&, Request) -> asio::awaitable<Reply> {
        co_return WebSocketTakeover{[](WebSocket& ws) -> asio::awaitable<void> {
            ws.text(true);
            co_await ws.async_write(asio::buffer(std::string_view("bye")), asio::use_awaitable);
        }};
    };
}

class StreamingTest : public ServerTest {
   protected:
    void configure() override { cfg.allowed_origins = {"http://good"}; }
    Handler handler() override {
        auto router = std::make_shared<Router>(api::make_routes(service, cfg, parser));
        router->add(bhttp::verb::get, "/test/stream", stream_route(probe));
        router->add(bhttp::verb::get, "/test/wait", wait_route(probe));
        router->add(bhttp::verb::get, "/test/fail", fail_route());
        router->add(bhttp::verb::get, "/test/ws", echo_route());
        router->add(bhttp::verb::get, "/test/bye", bye_route());
        return api::with_cors(router, cfg);
    }

    // A client socket with a small receive buffer, so that the server's writes block soon.
    tcp::socket connect_small_window() {
        tcp::socket s(client_io);
        s.open(tcp::v4());
        s.set_option(asio::socket_base::receive_buffer_size(64 * 1024));
        s.connect({asio::ip::address_v4::loopback(), port});
        timeval tv{5, 0};
        ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return s;
    }

    static void send(tcp::socket& s, const std::string& raw) { asio::write(s, asio::buffer(raw)); }

    template <class Pred>
    static bool eventually(Pred pred, std::chrono::milliseconds within = 2000ms) {
        auto until = std::chrono::steady_clock::now() + within;
        while (!pred() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(5ms);
        return pred();
    }

    api::BodyParser parser{1};
    Probe probe;
};

TEST_F(StreamingTest, ASlowReaderHoldsTheProducerBack) {
    constexpr std::uint64_t kTotal = 32 << 20;
    auto s = connect_small_window();
    send(s, "GET /test/stream?" + std::to_string(kTotal) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string raw;
    std::array<char, 16 * 1024> buf{};
    std::uint64_t most_ahead = 0;
    for (int round = 0; round < 10; ++round) {  // 1 MiB at a time, with pauses
        std::this_thread::sleep_for(30ms);
        std::uint64_t produced = probe.produced;
        most_ahead = std::max(most_ahead, produced > raw.size() ? produced - raw.size() : 0);
        for (std::size_t got = 0; got < (1U << 20);) {
            auto n = s.read_some(asio::buffer(buf));
            raw.append(buf.data(), n);
            got += n;
        }
    }
    // Without backpressure the producer would have finished at once (32 MiB ahead).
    EXPECT_LT(most_ahead, 6U << 20);
    EXPECT_LT(probe.produced.load(), kTotal);
    while (!raw.ends_with("\r\n0\r\n\r\n")) raw.append(buf.data(), s.read_some(asio::buffer(buf)));
    EXPECT_EQ(probe.produced.load(), kTotal);
    EXPECT_FALSE(probe.aborted);
}

TEST_F(StreamingTest, TheBodyIsChunkedCompleteAndTheConnectionKeptAlive) {
    auto s = connect();
    Request req = get("/test/stream?200000");
    req.set(bhttp::field::origin, "http://good");
    auto res = roundtrip(s, req);
    EXPECT_EQ(res.result_int(), 200U);
    EXPECT_TRUE(res.chunked());
    EXPECT_EQ(res[bhttp::field::content_type], "text/plain");
    EXPECT_FALSE(res[kRequestIdHeader].empty());
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "http://good");
    ASSERT_EQ(res.body().size(), 200000U);
    for (std::size_t i = 0; i < res.body().size(); i += 4999) EXPECT_EQ(res.body()[i], pattern(i));
    EXPECT_EQ(roundtrip(s, get("/health")).result_int(), 200U);  // the same connection
}

TEST_F(StreamingTest, HeadSendsTheHeadOnlyAndHttp10StreamsUntilClose) {
    auto s = connect();
    send(s, "HEAD /test/stream?1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::string_body> head;
    head.skip(true);  // a response to HEAD has no body
    bhttp::read(s, buf, head);
    EXPECT_EQ(head.get()[bhttp::field::transfer_encoding], "chunked");
    EXPECT_EQ(probe.producers, 0);
    EXPECT_EQ(roundtrip(s, get("/health")).result_int(), 200U);

    auto old = connect();
    send(old, "GET /test/stream?1000 HTTP/1.0\r\n\r\n");
    std::string raw;
    std::array<char, 4096> chunk{};
    boost::system::error_code ec;
    while (!ec) raw.append(chunk.data(), old.read_some(asio::buffer(chunk), ec));
    EXPECT_EQ(ec, asio::error::eof);  // the end of the body is the end of the connection
    EXPECT_EQ(raw.find("chunked"), std::string::npos);
    std::string body;
    for (std::uint64_t i = 0; i < 1000; ++i) body += pattern(i);
    EXPECT_TRUE(raw.ends_with("\r\n\r\n" + body));
}

TEST_F(StreamingTest, DisconnectCancelsAWaitingProducer) {
    auto s = connect();
    send(s, "GET /test/wait HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string raw;
    std::array<char, 1024> buf{};
    while (raw.find("first") == std::string::npos)
        raw.append(buf.data(), s.read_some(asio::buffer(buf)));
    auto start = std::chrono::steady_clock::now();
    s.close();
    EXPECT_TRUE(eventually([&] { return probe.aborted.load(); }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    auto other = connect();
    EXPECT_EQ(roundtrip(other, get("/health")).result_int(), 200U);
}

TEST_F(StreamingTest, DisconnectFailsAProducerBlockedOnAWrite) {
    auto s = connect_small_window();
    send(s, "GET /test/stream?" + std::to_string(64 << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(eventually([&] { return probe.produced.load() > 0; }));
    std::this_thread::sleep_for(100ms);  // the producer is now blocked: nothing is read
    s.close();                           // unread data: the kernel resets the connection
    EXPECT_TRUE(eventually([&] { return probe.aborted.load(); }));
    EXPECT_LT(probe.produced.load(), 64U << 20);
}

TEST_F(StreamingTest, AReaderThatNeverReadsHitsTheWriteDeadline) {
    // SetUp: HTTP_READ_TIMEOUT (also each write's deadline) 3 s.
    auto s = connect_small_window();
    send(s, "GET /test/stream?" + std::to_string(64 << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(eventually([&] { return probe.aborted.load(); }, 6000ms));
    EXPECT_GT(std::chrono::steady_clock::now() - start, 2500ms);
}

TEST_F(StreamingTest, AProducerFailureLeavesTheBodyUnterminated) {
    auto s = connect();
    send(s, "GET /test/fail HTTP/1.1\r\nHost: x\r\n\r\n");
    beast::flat_buffer buf;
    Response res;
    boost::system::error_code ec;
    bhttp::read(s, buf, res, ec);
    EXPECT_EQ(ec, bhttp::error::partial_message);  // no last chunk: the client knows
    auto other = connect();
    EXPECT_EQ(roundtrip(other, get("/health")).result_int(), 200U);
}

websocket::stream<tcp::socket> ws_client(asio::io_context& io, std::uint16_t port,
                                         std::string origin, websocket::response_type& res,
                                         boost::system::error_code& ec,
                                         const char* target = "/test/ws") {
    websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect({asio::ip::address_v4::loopback(), port});
    timeval tv{5, 0};
    ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws.set_option(websocket::stream_base::decorator([origin](websocket::request_type& req) {
        if (!origin.empty()) req.set(bhttp::field::origin, origin);
    }));
    ws.handshake(res, "localhost", target, ec);
    return ws;
}

TEST_F(StreamingTest, WebSocketEchoesAnswersPingsAndCloses) {
    websocket::response_type res;
    boost::system::error_code ec;
    auto ws = ws_client(client_io, port, "http://good", res, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result_int(), 101U);
    EXPECT_FALSE(res[kRequestIdHeader].empty());
    bool pong = false;
    ws.control_callback([&](websocket::frame_type kind, beast::string_view) {
        pong = pong || kind == websocket::frame_type::pong;
    });
    ws.ping("are you there");
    ws.text(true);
    ws.write(asio::buffer(std::string(R"({"hello":1})")));
    beast::flat_buffer buf;
    ws.read(buf);
    EXPECT_TRUE(ws.got_text());
    EXPECT_EQ(beast::buffers_to_string(buf.data()), R"({"hello":1})");
    EXPECT_TRUE(pong);
    ws.close(websocket::close_code::normal);
    auto other = connect();
    EXPECT_EQ(roundtrip(other, get("/health")).result_int(), 200U);
}

TEST_F(StreamingTest, TheServerClosesWith1000WhenTheTakeoverReturns) {
    websocket::response_type res;
    boost::system::error_code ec;
    auto ws = ws_client(client_io, port, "", res, ec, "/test/bye");
    ASSERT_FALSE(ec);
    beast::flat_buffer buf;
    ws.read(buf);
    EXPECT_EQ(beast::buffers_to_string(buf.data()), "bye");
    ws.read(buf, ec);
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(ws.reason().code, websocket::close_code::normal);
}

TEST_F(StreamingTest, WebSocketFromABadOriginIsRefusedWith403) {
    websocket::response_type res;
    boost::system::error_code ec;
    auto evil = ws_client(client_io, port, "http://evil", res, ec);
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
    EXPECT_EQ(res.result_int(), 403U);
    EXPECT_EQ(res.body(), R"({"detail":"Origin not allowed"})");
    auto tool = ws_client(client_io, port, "", res, ec);  // not a browser: no Origin
    EXPECT_FALSE(ec);
    EXPECT_EQ(res.result_int(), 101U);
}

TEST_F(StreamingTest, AWebSocketRouteWithoutUpgradeGets426) {
    auto s = connect();
    auto res = roundtrip(s, get("/test/ws"));
    EXPECT_EQ(res.result_int(), 426U);
    EXPECT_EQ(res[bhttp::field::upgrade], "websocket");
}

TEST_F(StreamingTest, AnOversizeWebSocketMessageClosesWith1009) {
    websocket::response_type res;
    boost::system::error_code ec;
    auto ws = ws_client(client_io, port, "", res, ec);
    ASSERT_FALSE(ec);
    ws.binary(true);
    ws.write(asio::buffer(std::string(kWebSocketMessageLimit + 1, 'x')), ec);
    beast::flat_buffer buf;
    ws.read(buf, ec);
    EXPECT_EQ(ec, websocket::error::closed);
    EXPECT_EQ(ws.reason().code, websocket::close_code::too_big);
}

}  // namespace
}  // namespace sbx::http
