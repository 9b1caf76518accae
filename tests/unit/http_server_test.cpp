// In-process server on a free port with a fake engine: keep-alive, limits, stalled clients,
// cancellation of a run when its client disconnects. (Fixture: http_test_server.h.)
#include "http_test_server.h"

namespace sbx::http {
namespace {

using namespace test_server;  // NOLINT(google-build-using-namespace): the fixture's names

TEST_F(ServerTest, KeepAliveServesSeveralRequests) {
    auto s = connect();
    for (int i = 0; i < 3; ++i) {
        auto res = roundtrip(s, get("/health"));
        EXPECT_EQ(res.result_int(), 200u);
        EXPECT_EQ(res[bhttp::field::content_type], "application/json");
        EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
        EXPECT_FALSE(res[kRequestIdHeader].empty());
        EXPECT_TRUE(res.keep_alive());
    }
    auto req = get("/nope");
    req.keep_alive(false);
    auto res = roundtrip(s, req);
    EXPECT_EQ(res.result_int(), 404u);
    EXPECT_FALSE(res.keep_alive());
}

TEST_F(ServerTest, HugeBodyGets413) {
    auto s = connect();
    Request req{bhttp::verb::post, "/execute", 11};
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::string(10000, 'x');
    auto res = roundtrip(s, req);
    EXPECT_EQ(res.result_int(), 413u);
    EXPECT_EQ(res.body(), R"j({"detail":"Request body too large (maximum 4096 bytes)"})j");
}

TEST_F(ServerTest, HugeHeaderGets431) {
    auto s = connect();
    auto req = get("/");
    req.set("X-Big", std::string(20000, 'a'));
    auto res = roundtrip(s, req);
    EXPECT_EQ(res.result_int(), 431u);
}

TEST_F(ServerTest, GarbageGets400) {
    auto s = connect();
    asio::write(s, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
    beast::flat_buffer buf;
    Response res;
    bhttp::read(s, buf, res);
    EXPECT_EQ(res.result_int(), 400u);
    EXPECT_EQ(res.body(), R"({"detail":"Invalid HTTP request"})");
}

TEST_F(ServerTest, StalledClientDoesNotBlockOthersAndIsDropped) {
    auto stalled = connect();
    asio::write(stalled, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x")));
    auto start = std::chrono::steady_clock::now();
    auto other = connect();
    EXPECT_EQ(roundtrip(other, get("/")).result_int(), 200u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
    // HTTP_HEADER_TIMEOUT (1 s) closes the stalled connection.
    char byte = 0;
    boost::system::error_code ec;
    stalled.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(ServerTest, FullTableClosesTheLongestStalledHeadForANewClient) {
    std::vector<tcp::socket> stalled;
    for (int i = 0; i < 8; ++i) {  // twice MAX_CONNECTIONS
        stalled.push_back(connect());
        asio::write(stalled.back(), asio::buffer(std::string("GET / HTTP/1.1\r\nHo")));
        std::this_thread::sleep_for(20ms);  // a definite order
    }
    auto fresh = connect();
    EXPECT_EQ(roundtrip(fresh, get("/health")).result_int(), 200u);
    // The oldest made room at once (not at HTTP_HEADER_TIMEOUT).
    EXPECT_LT(time_to_close(stalled.front()), 300ms);
}

TEST_F(ServerTest, FullTableOfBusyConnectionsClosesTheNewOneAtOnce) {
    std::vector<tcp::socket> busy;
    for (int i = 0; i < 4; ++i) {  // heads complete, bodies pending: nothing to evict
        busy.push_back(connect());
        asio::write(busy.back(),
                    asio::buffer(std::string(
                        "POST /execute HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n")));
    }
    std::this_thread::sleep_for(100ms);
    auto refused = connect();
    EXPECT_LT(time_to_close(refused), 300ms);
}

TEST_F(ServerTest, RequestHeadHasItsOwnDeadline) {
    // SetUp: HTTP_HEADER_TIMEOUT 1 s, HTTP_READ_TIMEOUT 3 s.
    auto s = connect();
    asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x")));
    auto took = time_to_close(s);
    EXPECT_GT(took, 800ms);
    EXPECT_LT(took, 2500ms);
}

TEST_F(ServerTest, IdleKeepAliveIsClosed) {
    auto s = connect();
    EXPECT_EQ(roundtrip(s, get("/")).result_int(), 200u);
    char byte = 0;
    boost::system::error_code ec;
    auto start = std::chrono::steady_clock::now();
    s.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(ServerTest, DisconnectCancelsRun) {
    service.delay = 30s;
    auto s = connect();
    Request req{bhttp::verb::post, "/execute", 11};
    req.set(bhttp::field::content_type, "application/json");
    req.body() = R"j({"code":"import time; time.sleep(30)"})j";
    req.prepare_payload();
    bhttp::write(s, req);
    for (int i = 0; i < 200 && !service.started; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(service.started);
    s.close();
    for (int i = 0; i < 200 && !service.cancelled; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(service.cancelled);
    // The server still serves.
    auto other = connect();
    EXPECT_EQ(roundtrip(other, get("/health")).result_int(), 200u);
}

TEST_F(ServerTest, RunsDoNotBlockHealth) {
    service.delay = 1500ms;
    std::thread slow([this] {
        auto s = connect();
        Request req{bhttp::verb::post, "/execute", 11};
        req.body() = R"({"code":"x"})";
        EXPECT_EQ(roundtrip(s, req).result_int(), 200u);
    });
    for (int i = 0; i < 200 && !service.started; ++i) std::this_thread::sleep_for(10ms);
    auto start = std::chrono::steady_clock::now();
    auto s = connect();
    EXPECT_EQ(roundtrip(s, get("/health")).result_int(), 200u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 200ms);
    slow.join();
}

}  // namespace
}  // namespace sbx::http
