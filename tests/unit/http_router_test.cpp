// Route templates ({name} segments, percent-decoding, specificity) and the Router's 404/405/307
// answers with them; RequestContext's route and parameters.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>
#include <stdexcept>

#include "http/route_template.h"
#include "http/router.h"

namespace sbx::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

TEST(RouteTemplate, MatchesLiteralsAndOneSegmentPerParameter) {
    RouteTemplate t("/sessions/{id}/execute");
    auto m = t.match("/sessions/abc/execute");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, (PathParams{{"id", "abc"}}));
    EXPECT_FALSE(t.match("/sessions/a/b/execute"));  // a value never spans a '/'
    EXPECT_FALSE(t.match("/sessions//execute"));     // nor is empty
    EXPECT_FALSE(t.match("/sessions/abc/execute/"));
    EXPECT_FALSE(t.match("/sessions/abc"));
    EXPECT_FALSE(t.match("/Sessions/abc/execute"));  // literals are exact
    EXPECT_TRUE(RouteTemplate("/").match("/"));
    EXPECT_FALSE(RouteTemplate("/").match("/x"));
    EXPECT_TRUE(RouteTemplate("/health").match("/health"));
    EXPECT_FALSE(RouteTemplate("/health").match("//health"));
    auto two = RouteTemplate("/a/{x}/b/{y}").match("/a/1/b/2");
    ASSERT_TRUE(two);
    EXPECT_EQ(*two, (PathParams{{"x", "1"}, {"y", "2"}}));
}

TEST(RouteTemplate, ParameterValuesArePercentDecoded) {
    RouteTemplate t("/runs/{id}");
    EXPECT_EQ(t.match("/runs/a%20b%2a")->front().second, "a b*");
    EXPECT_EQ(t.match("/runs/a+b")->front().second, "a+b");  // '+' is not a space in a path
    EXPECT_FALSE(t.match("/runs/a%2Fb"));                    // a decoded '/' is refused (404)
    EXPECT_FALSE(t.match("/runs/a%00"));
    EXPECT_FALSE(t.match("/runs/a%2"));
    EXPECT_FALSE(t.match("/runs/%zz"));
    // Literal segments are compared undecoded, as before templates existed.
    EXPECT_FALSE(RouteTemplate("/execute").match("/ex%65cute"));
}

TEST(RouteTemplate, BadTemplatesAreRefused) {
    for (const char* bad : {"", "health", "/a{b}", "/{}", "/{a-b}", "/{a}/{a}", "/x}", "/{a"}) {
        EXPECT_THROW(RouteTemplate{bad}, std::invalid_argument) << bad;
    }
    EXPECT_TRUE(RouteTemplate("/{a_1}/{B2}").has_parameters());
    EXPECT_FALSE(RouteTemplate("/health").has_parameters());
}

TEST(RouteTemplate, LiteralSegmentsAreMoreSpecific) {
    RouteTemplate literal("/sessions/new"), param("/sessions/{id}");
    EXPECT_TRUE(literal.more_specific_than(param));
    EXPECT_FALSE(param.more_specific_than(literal));
    EXPECT_FALSE(param.more_specific_than(param));
    EXPECT_TRUE(RouteTemplate("/a/{x}/c").more_specific_than(RouteTemplate("/{w}/b/c")));
}

// A router whose handlers answer "<template> <params>" in the body.
Handler echo_route() {
    return [](RequestContext& ctx, Request) -> asio::awaitable<Reply> {
        std::string body = ctx.route;
        for (const auto& [k, v] : ctx.params) body += " " + k + "=" + v;
        Response res{bhttp::status::ok, 11};
        res.body() = body;
        co_return res;
    };
}

struct Dispatched {
    Response res;
    RequestContext ctx;
};

Dispatched dispatch(const Router& router, bhttp::verb method, std::string target) {
    asio::io_context io;
    Dispatched out;
    asio::co_spawn(io, router.dispatch(out.ctx, Request{method, target, 11}),
                   [&](const std::exception_ptr& e, Reply r) {
                       if (!e) out.res = std::get<Response>(std::move(r));
                   });
    io.run();
    return out;
}

class RouterTest : public ::testing::Test {
   protected:
    void SetUp() override {
        router.add(bhttp::verb::get, "/sessions/{id}", echo_route());
        router.add(bhttp::verb::delete_, "/sessions/{id}", echo_route());
        router.add(bhttp::verb::post, "/sessions/new", echo_route());
        router.add(bhttp::verb::post, "/sessions/{id}/execute", echo_route());
        router.add(bhttp::verb::post, "/sessions/{id}/fork", echo_route());
        router.add(bhttp::verb::get, "/health", echo_route());
    }
    Router router;
};

TEST_F(RouterTest, TheMatchingTemplateAndItsParametersReachTheHandler) {
    auto d = dispatch(router, bhttp::verb::post, "/sessions/s%201/execute?x=1");
    EXPECT_EQ(d.res.result_int(), 200U);
    EXPECT_EQ(d.res.body(), "/sessions/{id}/execute id=s 1");
    EXPECT_EQ(d.ctx.route, "/sessions/{id}/execute");
    EXPECT_EQ(d.ctx.param("id"), "s 1");
    EXPECT_EQ(d.ctx.param("other"), "");
    EXPECT_EQ(dispatch(router, bhttp::verb::get, "http://host/sessions/7").res.body(),
              "/sessions/{id} id=7");
}

TEST_F(RouterTest, LiteralWinsForItsMethodAndTheParameterRouteServesOthers) {
    EXPECT_EQ(dispatch(router, bhttp::verb::post, "/sessions/new").res.body(), "/sessions/new");
    // GET has no literal route: the template with a parameter takes it, as Starlette would.
    EXPECT_EQ(dispatch(router, bhttp::verb::get, "/sessions/new").res.body(),
              "/sessions/{id} id=new");
}

TEST_F(RouterTest, UnknownPathIs404AndOtherMethod405WithEveryAllowedMethod) {
    auto d = dispatch(router, bhttp::verb::get, "/sessions/1/nope");
    EXPECT_EQ(d.res.result_int(), 404U);
    EXPECT_EQ(d.res.body(), R"({"detail":"Not Found"})");
    EXPECT_TRUE(d.ctx.route.empty());
    d = dispatch(router, bhttp::verb::put, "/sessions/1");
    EXPECT_EQ(d.res.result_int(), 405U);
    EXPECT_EQ(d.res[bhttp::field::allow], "GET, HEAD, DELETE");
    d = dispatch(router, bhttp::verb::put, "/sessions/new");  // both templates match
    EXPECT_EQ(d.res[bhttp::field::allow], "GET, HEAD, DELETE, POST");
    EXPECT_EQ(dispatch(router, bhttp::verb::get, "/sessions/1/fork").res[bhttp::field::allow],
              "POST");
}

TEST_F(RouterTest, HeadUsesTheGetRoute) {
    auto d = dispatch(router, bhttp::verb::head, "/sessions/9");
    EXPECT_EQ(d.res.result_int(), 200U);
    EXPECT_EQ(d.ctx.route, "/sessions/{id}");
}

TEST_F(RouterTest, TrailingSlashOfATemplatedPathRedirects) {
    auto d = dispatch(router, bhttp::verb::post, "/sessions/a/execute/?q=1");
    EXPECT_EQ(d.res.result_int(), 307U);
    EXPECT_EQ(d.res[bhttp::field::location], "/sessions/a/execute?q=1");
    EXPECT_EQ(dispatch(router, bhttp::verb::get, "/sessions/").res.result_int(), 404U);
}

TEST_F(RouterTest, TemplatesMatchThemselvesForTheDocumentCheck) {
    EXPECT_EQ(router.allowed_methods("/sessions/{id}/execute"), "POST");
    EXPECT_EQ(router.allowed_methods("/nope"), "");
    auto all = router.routes();
    ASSERT_EQ(all.size(), 6U);
    EXPECT_EQ(all[3], std::make_pair(bhttp::verb::post, std::string("/sessions/{id}/execute")));
}

TEST_F(RouterTest, ARouteCannotBeRegisteredTwice) {
    EXPECT_THROW(router.add(bhttp::verb::get, "/health", echo_route()), std::invalid_argument);
    EXPECT_THROW(router.add(bhttp::verb::get, "/bad{", echo_route()), std::invalid_argument);
    router.add(bhttp::verb::post, "/health", echo_route());  // another method is fine
}

TEST(LogFields, KeepFirstOrderAndReplaceValues) {
    LogFields f;
    f.set("verdict", "-");
    f.set("run", "7");
    f.set("verdict", "ok");
    ASSERT_EQ(f.items().size(), 2U);
    EXPECT_EQ(f.items()[0], std::make_pair(std::string("verdict"), std::string("ok")));
    EXPECT_EQ(f.items()[1].first, "run");
}

}  // namespace
}  // namespace sbx::http
