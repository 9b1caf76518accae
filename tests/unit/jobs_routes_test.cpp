// Job routes over a real SQLite store: submission stores the jobs, and a job is visible only to
// the key that submitted it (another key, or a caller without a key, gets 404).
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>

#include "jobs/job_routes.h"
#include "store/open.h"

namespace sbx::jobs {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

class NoRuns : public pool::RunService {
   public:
    asio::awaitable<pool::RunReply> run(sandbox::RunRequest) override {
        co_return pool::RunReply{};
    }
    pool::HealthReport health() const override { return {}; }
};

class JobRoutes : public ::testing::Test {
   protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("sbx-jobs-routes-" + std::to_string(::getpid()));
        auto opened = store::open_store({dir_, "", 1});
        ASSERT_TRUE(opened.has_value()) << opened.error().render();
        store_ = std::move(*opened);
        ctx_ = std::make_unique<JobsContext>(JobsContext{cfg_, *store_.repository, service_,
                                                         io_.get_executor(), io_.get_executor(),
                                                         policy_, "test"});
        add_job_routes(router_, *ctx_, [this] { ++submitted_; });
    }
    void TearDown() override {
        store_ = {};
        std::filesystem::remove_all(dir_);
    }

    http::Response call(bhttp::verb method, const std::string& target,
                        std::optional<std::string> key, std::string body = {}) {
        http::Request req{method, target, 11};
        req.body() = std::move(body);
        req.prepare_payload();
        http::RequestContext ctx;
        http::Identity who;
        who.key_id = key.value_or("");  // as the auth layer names anonymous callers
        who.role = key ? "user" : "anonymous";
        ctx.identity = std::move(who);
        std::optional<http::Response> out;
        asio::co_spawn(io_, router_.dispatch(ctx, std::move(req)),
                       [&](const std::exception_ptr& e, http::Reply r) {
                           if (auto* res = std::get_if<http::Response>(&r); !e && res) out = *res;
                       });
        io_.restart();
        io_.run();
        EXPECT_TRUE(out.has_value());
        return out ? *out : http::Response{};
    }

    config::Config cfg_;
    NoRuns service_;
    AddressPolicy policy_{{}, {}};
    asio::io_context io_;
    std::filesystem::path dir_;
    store::Store store_;
    std::unique_ptr<JobsContext> ctx_;
    http::Router router_;
    int submitted_ = 0;
};

TEST_F(JobRoutes, ASubmittedJobIsStoredQueuedForItsKeyOnly) {
    auto res = call(bhttp::verb::post, "/jobs", "kA", R"j({"code":"print(1)","timeout":5})j");
    ASSERT_EQ(res.result_int(), 202u) << res.body();
    EXPECT_EQ(submitted_, 1);
    const std::string id(boost::json::parse(res.body()).at("job_id").as_string());
    auto stored = store_.repository->get_job(id, std::nullopt).value();
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->key_id, "kA");
    EXPECT_EQ(stored->state, store::JobState::queued);
    EXPECT_EQ(boost::json::parse(stored->request).at("timeout").as_int64(), 5);

    res = call(bhttp::verb::get, "/jobs/" + id, "kA");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(boost::json::parse(res.body()).at("state").as_string(), "queued");
    EXPECT_EQ(call(bhttp::verb::get, "/jobs/" + id, "kB").result_int(), 404u);
    EXPECT_EQ(call(bhttp::verb::get, "/jobs/" + id, std::nullopt).result_int(), 404u);
}

TEST_F(JobRoutes, ABatchIsVisibleOnlyToItsKeyAndJobsWithoutKeyOnlyWithout) {
    auto res = call(bhttp::verb::post, "/jobs", std::nullopt,
                    R"j({"batch":[{"code":"1"},{"code":"2"}]})j");
    ASSERT_EQ(res.result_int(), 202u) << res.body();
    const auto body = boost::json::parse(res.body());
    const std::string batch(body.at("job_id").as_string());
    EXPECT_EQ(body.at("job_ids").as_array().size(), 2u);
    EXPECT_EQ(call(bhttp::verb::get, "/jobs/" + batch, std::nullopt).result_int(), 200u);
    EXPECT_EQ(call(bhttp::verb::get, "/jobs/" + batch, "kA").result_int(), 404u);
    const std::string first(body.at("job_ids").as_array()[0].as_string());
    EXPECT_EQ(call(bhttp::verb::get, "/jobs/" + first, "kA").result_int(), 404u);
}

TEST_F(JobRoutes, ACallbackWithoutASecretToSignWithIsRefused) {
    auto res = call(bhttp::verb::post, "/jobs", "kA",
                    R"j({"code":"1","callback_url":"http://192.0.2.1/hook"})j");
    EXPECT_EQ(res.result_int(), 400u);
    EXPECT_NE(res.body().find("pysandbox keys webhook-secret kA"), std::string::npos);
    ASSERT_TRUE(store_.repository->set_webhook_secret("kA", "s3cret-s3cret-s3cret", 1));
    res = call(bhttp::verb::post, "/jobs", "kA",
               R"j({"code":"1","callback_url":"http://192.0.2.1/hook"})j");
    EXPECT_EQ(res.result_int(), 202u) << res.body();
}

}  // namespace
}  // namespace sbx::jobs
