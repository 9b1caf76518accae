// Request smuggling shapes against the in-process server: pipelined requests on one connection,
// counting the responses; 414 for a long target; the body budget dropping stalled bodies.
#include <string>

#include "http_test_server.h"

namespace sbx::http {
namespace {

using namespace test_server;  // NOLINT(google-build-using-namespace): the fixture's names
using namespace std::string_literals;

struct Exchange {
    std::vector<unsigned> statuses;
    bool closed = false;  // the server closed the connection after the last response
};

Exchange send_and_read_all(tcp::socket& s, const std::string& raw) {
    asio::write(s, asio::buffer(raw));
    beast::flat_buffer buf;
    Exchange out;
    for (;;) {
        Response res;
        boost::system::error_code ec;
        bhttp::read(s, buf, res, ec);
        if (ec) {
            out.closed = ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset;
            return out;
        }
        out.statuses.push_back(res.result_int());
    }
}

const std::string kTail = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const std::string kPost = "POST /execute HTTP/1.1\r\nHost: x\r\n";
const std::string kChunked = kPost + "Transfer-Encoding: chunked\r\n\r\n";
const std::string kHidden = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
const std::vector<unsigned> kRefused{400};
const std::vector<unsigned> kAccepted{422, 200};  // "{}" lacks code; then the tail

struct Shape {
    const char* name;
    std::string request;
    std::vector<unsigned> expected;
};

std::vector<Shape> shapes() {
    return {
        {"te_chunked_identity",
         kPost + "Transfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n", kRefused},
        {"te_unknown_on_get",
         "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", kRefused},
        {"te_identity_alone", kPost + "Transfer-Encoding: identity\r\n\r\n{}", kRefused},
        {"te_gzip_chunked", kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         kRefused},
        {"te_two_fields",
         kPost +
             "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         kRefused},
        {"te_duplicate_chunked",
         kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         kRefused},
        {"te_space_before_colon", kPost + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", kRefused},
        {"te_obs_fold", kPost + "Transfer-Encoding:\r\n chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         kRefused},
        {"te_http10",
         "POST /execute HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         kRefused},
        {"cl_te", kPost + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
         kRefused},
        {"te_cl",
         kPost + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n22\r\n" + kHidden +
             "\r\n0\r\n\r\n",
         kRefused},
        {"cl_list", kPost + "Content-Length: 2, 2\r\n\r\n{}", kRefused},
        {"cl_twice", kPost + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", kRefused},
        {"te_case_and_spacing", kPost + "Transfer-Encoding:\tChunked \r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         kAccepted},
        {"chunk_leading_space", kChunked + " 2\r\n{}\r\n0\r\n\r\n", kRefused},
        {"chunk_trailing_space", kChunked + "2 \r\n{}\r\n0\r\n\r\n", kRefused},
        {"chunk_0x", kChunked + "0x2\r\n{}\r\n0\r\n\r\n", kRefused},
        {"chunk_overflow", kChunked + "10000000000000002\r\n{}\r\n0\r\n\r\n", kRefused},
        {"chunk_leading_zeros", kChunked + "0000000000000000000002\r\n{}\r\n0\r\n\r\n", kAccepted},
        {"chunk_extension", kChunked + "2;a=b\r\n{}\r\n0;c\r\n\r\n", kAccepted},
        {"chunk_missing_final_crlf", kChunked + "2\r\n{}\r\n0\r\n", kRefused},
        {"chunk_trailers", kChunked + "2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n", kAccepted},
        {"chunk_bare_lf", kChunked + "2\n{}\n0\n\n", kRefused},
        {"obs_fold", "GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", kRefused},
        {"bare_lf_head", "GET /health HTTP/1.1\nHost: x\n\n", kRefused},
        {"nul", "GET /health HTTP/1.1\r\nHost: x\0y\r\n\r\n"s, kRefused},
    };
}

TEST_F(ServerTest, EachFramingShapeGetsTheExpectedResponsesAndNoMore) {
    for (const Shape& shape : shapes()) {
        auto s = connect();
        auto got = send_and_read_all(s, shape.request + kTail);
        EXPECT_EQ(got.statuses, shape.expected) << shape.name;
        EXPECT_TRUE(got.closed) << shape.name;
    }
}

TEST_F(ServerTest, PipelinedRequestsGetOneResponseEach) {
    auto s = connect();
    std::string good = kPost + "Content-Length: 2\r\n\r\n{}";
    std::string chunked = kChunked + "1\r\n{\r\n1\r\n}\r\n0\r\n\r\n";
    auto got = send_and_read_all(s, good + chunked + kHidden + good + kTail);
    EXPECT_EQ(got.statuses, (std::vector<unsigned>{422, 422, 200, 422, 200}));
    EXPECT_TRUE(got.closed);
}

TEST_F(ServerTest, LongTargetGets414) {
    auto s = connect();
    auto res = roundtrip(s, get("/" + std::string(20000, 'a')));
    EXPECT_EQ(res.result_int(), 414U);
    EXPECT_EQ(res.body(), R"({"detail":"Request target too long"})");
    EXPECT_FALSE(res.keep_alive());
}

class BudgetTest : public ServerTest {
   protected:
    void configure() override { cfg.max_buffered_body_bytes = 2 * cfg.max_body_bytes; }
};

TEST_F(BudgetTest, TheLongestStalledBodyIsDroppedForANewOne) {
    std::string head = kPost + "Content-Length: 4096\r\n\r\n";
    std::vector<tcp::socket> stalled;
    for (int i = 0; i < 2; ++i) {  // the budget holds two 4096-byte bodies
        stalled.push_back(connect());
        asio::write(stalled.back(), asio::buffer(head + std::string(4000, ' ')));
        std::this_thread::sleep_for(50ms);  // a definite order
    }
    auto start = std::chrono::steady_clock::now();
    auto fresh = connect();
    auto got =
        send_and_read_all(fresh, kPost + "Content-Length: 4096\r\nConnection: close\r\n\r\n{}" +
                                     std::string(4094, ' '));
    EXPECT_EQ(got.statuses, std::vector<unsigned>{422});  // served, once a body stalled 2 s
    EXPECT_GT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_LT(time_to_close(stalled.front()), 200ms);  // dropped without an answer
    // The other stalled body is still held (its read deadline is HTTP_READ_TIMEOUT, 3 s).
    char byte = 0;
    boost::system::error_code ec;
    stalled.back().non_blocking(true);
    stalled.back().read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::would_block);
}

}  // namespace
}  // namespace sbx::http
