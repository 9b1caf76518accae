// api/access and api/run_history: public routes, the 401 and 429 shapes, a key's run limits
// (network permission, timeout cap, admission subject), run ids, records as JSON.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <regex>
#include <set>

#include "api/access.h"
#include "api/run_history.h"

namespace sbx::api {
namespace {

namespace bhttp = boost::beast::http;

TEST(Access, PublicRoutes) {
    EXPECT_TRUE(is_public(bhttp::verb::get, "/"));
    EXPECT_TRUE(is_public(bhttp::verb::head, "/health"));
    EXPECT_TRUE(is_public(bhttp::verb::get, "/ui"));
    EXPECT_TRUE(is_public(bhttp::verb::get, "/ui/assets/app-1234.js"));
    EXPECT_FALSE(is_public(bhttp::verb::post, "/health"));
    EXPECT_FALSE(is_public(bhttp::verb::get, "/metrics"));  // METRICS_AUTH decides
    EXPECT_FALSE(is_public(bhttp::verb::get, "/runs"));
    EXPECT_FALSE(is_public(bhttp::verb::get, "/uix"));
    EXPECT_FALSE(is_public(bhttp::verb::get, "/docs"));
}

TEST(Access, UnauthorizedShape) {
    auto res = unauthorized();
    EXPECT_EQ(res.result_int(), 401u);
    EXPECT_EQ(res[bhttp::field::www_authenticate], "Bearer");
    EXPECT_EQ(res.body(), R"({"detail":"Invalid or missing API key"})");
}

TEST(Access, LimitResponseCarriesTheHeaders) {
    auto d = auth::LimitDecision::refuse(auth::LimitKind::rate, 3, {20, 0, 4}, "Rate \"limit\"");
    auto res = limit_response(Backends{}, d);
    EXPECT_EQ(res.result_int(), 429u);
    EXPECT_EQ(res[bhttp::field::retry_after], "3");
    EXPECT_EQ(res["RateLimit-Limit"], "20");
    EXPECT_EQ(res["RateLimit-Remaining"], "0");
    EXPECT_EQ(res["RateLimit-Reset"], "4");
    EXPECT_EQ(boost::json::parse(res.body()).at("detail").as_string(), "Rate \"limit\"");
}

auth::Identity key_with(store::KeyLimits limits) {
    store::KeyRecord k;
    k.id = "abcdefghijkl";
    k.name = "t";
    k.limits = limits;
    return auth::identity_of(k);
}

TEST(Access, RunLimitsOfAKey) {
    store::KeyLimits l;
    l.concurrency = 3;
    l.network = false;
    l.caps = store::LimitCaps{};
    l.caps->timeout_s = 10;
    const auto who = key_with(l);
    sandbox::RunRequest run;
    run.timeout = std::chrono::seconds(10);
    EXPECT_FALSE(acquire_run_limits(Backends{}, who, run));
    EXPECT_EQ(run.subject, who.subject);
    EXPECT_EQ(run.concurrency, 3u);
    EXPECT_EQ(run.network, std::optional<bool>(false));  // the server's default would not apply
    run.network = true;
    auto refused = acquire_run_limits(Backends{}, who, run);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->result_int(), 400u);
    EXPECT_NE(refused->body().find("network"), std::string::npos);
    run.network.reset();
    run.timeout = std::chrono::seconds(11);
    refused = acquire_run_limits(Backends{}, who, run);
    ASSERT_TRUE(refused);
    EXPECT_NE(refused->body().find("cap of 10 seconds"), std::string::npos);
}

TEST(Access, WithoutAnIdentityTheCallerIsAnonymous) {
    http::RequestContext ctx;
    EXPECT_FALSE(caller(ctx).key_id);
    EXPECT_FALSE(caller(ctx).is_admin());
    EXPECT_EQ(caller(ctx).limits, store::KeyLimits{});
}

TEST(RunHistory, IdsAreUrlSafeAndDistinct) {
    const std::regex shape("^run_[A-Za-z0-9_-]{22}$");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = new_run_id();
        EXPECT_TRUE(std::regex_match(id, shape)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(RunHistory, RecordAsJson) {
    store::RunRecord r;
    r.run_id = "run_x";
    r.started_us = 1'700'000'000'123'456;
    r.duration_us = 1500;
    r.status = "ok";
    r.exit_code = 0;
    auto o = run_json(r);
    EXPECT_EQ(o.at("started_at").as_string(), "2023-11-14T22:13:20.123456Z");
    EXPECT_DOUBLE_EQ(o.at("duration").as_double(), 0.0015);
    EXPECT_TRUE(o.at("key_id").is_null());
    EXPECT_EQ(o.at("exit_code").as_int64(), 0);
    EXPECT_FALSE(o.contains("code"));
    r.code = "print(1)";
    EXPECT_EQ(run_json(r).at("code").as_string(), "print(1)");
}

}  // namespace
}  // namespace sbx::api
