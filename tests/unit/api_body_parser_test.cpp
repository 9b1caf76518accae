// BodyParser: a large body is parsed on the pool with the same result as inline, and the
// caller resumes on its own thread.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <thread>

#include "api/base64.h"
#include "api/body_parser.h"
#include "api/execute_request.h"

namespace sbx::api {
namespace {

namespace asio = boost::asio;

struct Outcome {
    ApiResult<sandbox::RunRequest> result = bad_request("not run");
    std::thread::id resumed_on;
};

Outcome parse_on_io_context(BodyParser& parser, std::string body, const config::Config& cfg) {
    asio::io_context io;
    std::optional<Outcome> out;
    auto task = [&]() -> asio::awaitable<void> {
        auto r = co_await parser.parse("application/json", std::move(body), cfg, "9");
        out = Outcome{std::move(r), std::this_thread::get_id()};
    };
    asio::co_spawn(io, task, [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : Outcome{};
}

TEST(BodyParser, LargeBodyGivesTheInlineResultAndResumesOnTheCaller) {
    config::Config cfg;
    BodyParser parser(2);
    std::string content(kOffloadBodyBytes, 'x');
    std::string body =
        R"j({"code":"print(1)","files":{"big.bin":")j" + base64_encode(content) + R"j("}})j";
    ASSERT_GE(body.size(), kOffloadBodyBytes);
    auto out = parse_on_io_context(parser, body, cfg);
    EXPECT_EQ(out.resumed_on, std::this_thread::get_id());  // io.run() is on this thread
    ASSERT_TRUE(out.result);
    EXPECT_EQ(out.result->request_id, "9");
    ASSERT_EQ(out.result->files.size(), 1u);
    EXPECT_EQ(out.result->files[0].content, content);
}

TEST(BodyParser, ErrorsAreTheSameOnThePool) {
    config::Config cfg;
    BodyParser parser(1);
    std::string padding(kOffloadBodyBytes, ' ');
    std::string body = R"({"code":"   ")" + padding + "}";  // blank code, > 1 MiB of body
    auto offloaded = parse_on_io_context(parser, body, cfg);
    auto inline_result = parse_execute_body("application/json", body, cfg, "9");
    ASSERT_FALSE(offloaded.result);
    ASSERT_FALSE(inline_result);
    EXPECT_EQ(to_response(offloaded.result.error()).body(),
              to_response(inline_result.error()).body());
    auto small = parse_on_io_context(parser, R"({"code":"x"})", cfg);
    EXPECT_TRUE(small.result);
}

}  // namespace
}  // namespace sbx::api
