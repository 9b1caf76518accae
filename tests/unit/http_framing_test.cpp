// HeadScanner (line endings, obs-fold, 414 vs 431, incremental) and framing_problem (TE/CL).
#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "http/framing.h"

namespace sbx::http {
namespace {

namespace bhttp = boost::beast::http;

HeadScanner::Result scan_whole(std::string_view head) {
    HeadScanner scanner;
    return scanner.scan(head);
}

// The same head fed one byte at a time: the first final answer, and at which length.
std::pair<HeadScanner::Result, std::size_t> scan_bytewise(std::string_view head) {
    HeadScanner scanner;
    for (std::size_t n = 1; n <= head.size(); ++n) {
        auto r = scanner.scan(head.substr(0, n));
        if (r.complete || r.problem != HeadProblem::none) return {r, n};
    }
    return {HeadScanner::Result{}, head.size()};
}

TEST(HeadScanner, CompleteHeadEndsAtTheEmptyLine) {
    std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
    auto r = scan_whole(head + "BODY");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.problem, HeadProblem::none);
    auto [b, at] = scan_bytewise(head + "BODY");
    EXPECT_TRUE(b.complete);
    EXPECT_EQ(at, head.size());
}

TEST(HeadScanner, IncompleteHeadAsksForMore) {
    auto r = scan_whole("GET / HTTP/1.1\r\nHost: x\r\n");
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.problem, HeadProblem::none);
}

TEST(HeadScanner, BareLineFeedIsRefused) {
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\nHost: x\r\n\r\n").problem, HeadProblem::bare_lf);
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\r\nHost: x\n\r\n").problem, HeadProblem::bare_lf);
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\r\nHost: x\r\n\n").problem, HeadProblem::bare_lf);
    EXPECT_EQ(scan_bytewise("GET / HTTP/1.1\r\nHost: x\n\n").first.problem, HeadProblem::bare_lf);
}

TEST(HeadScanner, ObsoleteLineFoldingIsRefused) {
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n").problem, HeadProblem::obs_fold);
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n").problem, HeadProblem::obs_fold);
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\r\n Host: x\r\n\r\n").problem, HeadProblem::obs_fold);
    EXPECT_EQ(
        scan_bytewise("GET / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n").first.problem,
        HeadProblem::obs_fold);
}

TEST(HeadScanner, LongRequestLineIs414AndLongFieldsAre431) {
    std::string target(kRequestLineLimit, 'a');
    std::string line = "GET /" + target + " HTTP/1.1\r\n";
    EXPECT_EQ(scan_whole(line + "\r\n").problem, HeadProblem::request_line_too_long);
    // Known before its end arrives (a target of megabytes is not buffered whole).
    EXPECT_EQ(scan_whole("GET /" + target).problem, HeadProblem::request_line_too_long);
    auto [r, at] = scan_bytewise("GET /" + target + target);
    EXPECT_EQ(r.problem, HeadProblem::request_line_too_long);
    EXPECT_EQ(at, kRequestLineLimit + 1);
    // Within the line limit: fine.
    std::string fits = "GET /" + std::string(kRequestLineLimit - 20, 'a') + " HTTP/1.1\r\n\r\n";
    EXPECT_TRUE(scan_whole(fits).complete);
    // Many fields, each short: 431.
    std::string fields = "GET / HTTP/1.1\r\n";
    while (fields.size() <= kHeaderLimit) fields += "X-Field: " + std::string(100, 'v') + "\r\n";
    EXPECT_EQ(scan_whole(fields + "\r\n").problem, HeadProblem::head_too_long);
    EXPECT_EQ(scan_whole(fields).problem, HeadProblem::head_too_long);
    EXPECT_EQ(scan_whole("GET / HTTP/1.1\r\nX-Big: " + std::string(kHeaderLimit, 'v')).problem,
              HeadProblem::head_too_long);
}

bhttp::request_header<> parsed(std::string_view head) {
    bhttp::request_parser<bhttp::string_body> p;
    boost::system::error_code ec;
    p.put(boost::asio::buffer(head.data(), head.size()), ec);
    EXPECT_FALSE(ec) << ec.message() << " for " << head;
    return p.get().base();
}

std::optional<std::string_view> problem_of(std::string_view fields,
                                           std::string_view version = "1.1") {
    std::string head = "POST /execute HTTP/" + std::string(version) + "\r\nHost: x\r\n" +
                       std::string(fields) + "\r\n";
    return framing_problem(parsed(head));
}

TEST(FramingProblem, ChunkedAloneIsTheOnlyTransferEncoding) {
    EXPECT_EQ(problem_of("Transfer-Encoding: chunked\r\n"), std::nullopt);
    EXPECT_EQ(problem_of("Transfer-Encoding: CHUNKED\r\n"), std::nullopt);
    EXPECT_EQ(problem_of("Transfer-Encoding:\tchunked \r\n"), std::nullopt);
    for (std::string_view te : {"chunked, identity", "identity", "xchunked", "gzip",
                                "gzip, chunked", "chunked,", ", chunked", "\"chunked\""}) {
        EXPECT_EQ(problem_of("Transfer-Encoding: " + std::string(te) + "\r\n"),
                  "unsupported Transfer-Encoding (only chunked)")
            << te;
    }
    EXPECT_EQ(problem_of("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
              "unsupported Transfer-Encoding (only chunked)");
}

TEST(FramingProblem, TransferEncodingWithContentLengthOrHttp10) {
    EXPECT_EQ(problem_of("Transfer-Encoding: identity\r\nContent-Length: 2\r\n"),
              "Transfer-Encoding with Content-Length");
    EXPECT_EQ(problem_of("Transfer-Encoding: chunked\r\n", "1.0"),
              "Transfer-Encoding in an HTTP/1.0 request");
}

TEST(FramingProblem, ContentLengthMustBeOneNumber) {
    EXPECT_EQ(problem_of("Content-Length: 2\r\n"), std::nullopt);
    EXPECT_EQ(problem_of("Content-Length:  2 \r\n"), std::nullopt);
    EXPECT_EQ(problem_of("Content-Length: 2, 2\r\n"), "Content-Length is not a number");
    EXPECT_EQ(problem_of("Content-Length: 2\r\nContent-Length: 2\r\n"),
              "more than one Content-Length");
    EXPECT_EQ(problem_of(""), std::nullopt);
}

}  // namespace
}  // namespace sbx::http
