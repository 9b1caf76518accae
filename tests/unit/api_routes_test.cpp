// Route table + wrapper: 404/405, CORS like Starlette, root/health bodies, execute mapping.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <regex>
#include <stdexcept>

#include "api/routes.h"
#include "http/boundary.h"
#include "jobs/job_routes.h"
#include "store/open.h"

namespace sbx::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

class FakeService : public pool::RunService {
   public:
    pool::RunReply reply;
    sandbox::RunRequest last;
    bool throw_on_run = false;

    asio::awaitable<pool::RunReply> run(sandbox::RunRequest request) override {
        last = std::move(request);
        if (throw_on_run) throw std::runtime_error("boom");
        co_return reply;
    }
    pool::HealthReport health() const override {
        pool::HealthReport r;
        r.run_mode = "zygote";
        r.capacity = 4;
        r.queue_capacity = 64;
        r.python_version = "3.11.2";
        r.packages = {{"numpy", "1.24.2"}};
        return r;
    }
};

class Routes : public ::testing::Test {
   protected:
    config::Config cfg;
    FakeService service;

    http::Response call(bhttp::verb method, std::string target, std::string body = {},
                        std::vector<std::pair<bhttp::field, std::string>> headers = {}) {
        http::Request req{method, target, 11};
        req.set(http::kRequestIdHeader, "42");
        for (auto& [k, v] : headers) req.set(k, v);
        req.body() = std::move(body);
        req.prepare_payload();
        asio::io_context io;
        std::optional<http::Response> out;
        ctx = http::RequestContext{};
        ctx.id = "42";
        // Through the server's request boundary (http/boundary.h), as the session calls it.
        http::Handler handler = make_handler(service, cfg);
        asio::co_spawn(io, http::call_handler(handler, ctx, std::move(req)),
                       [&](const std::exception_ptr& e, http::Reply r) {
                           if (auto* res = std::get_if<http::Response>(&r); !e && res) {
                               out = std::move(*res);
                           }
                       });
        io.run();
        EXPECT_TRUE(out.has_value());
        return out ? *out : http::Response{};
    }

    http::RequestContext ctx;  // of the last call
};

TEST_F(Routes, Root) {
    auto res = call(bhttp::verb::get, "/");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    EXPECT_EQ(res.body(), std::string(R"({"message":"SimplePySandbox API","version":")") +
                              SBX_VERSION + R"(","docs":"/docs","health":"/health"})");
}

TEST_F(Routes, NotFoundAndMethodNotAllowed) {
    auto res = call(bhttp::verb::get, "/nope");
    EXPECT_EQ(res.result_int(), 404u);
    EXPECT_EQ(res.body(), R"({"detail":"Not Found"})");
    res = call(bhttp::verb::get, "/execute");
    EXPECT_EQ(res.result_int(), 405u);
    EXPECT_EQ(res.body(), R"({"detail":"Method Not Allowed"})");
    EXPECT_EQ(res[bhttp::field::allow], "POST");
    res = call(bhttp::verb::post, "/health");
    EXPECT_EQ(res.result_int(), 405u);
    EXPECT_EQ(res[bhttp::field::allow], "GET, HEAD");
    EXPECT_EQ(call(bhttp::verb::get, "/health?x=1").result_int(), 200u);
}

TEST_F(Routes, TrailingSlashRedirectsLikeStarlette) {
    auto res = call(bhttp::verb::post, "/execute/", R"({"code":"x"})");
    EXPECT_EQ(res.result_int(), 307u);
    EXPECT_EQ(res[bhttp::field::location], "/execute");
    EXPECT_TRUE(res.body().empty());
    res = call(bhttp::verb::get, "/health/?verbose=1&x=%2F");
    EXPECT_EQ(res.result_int(), 307u);
    EXPECT_EQ(res[bhttp::field::location], "/health?verbose=1&x=%2F");
    // Any method of a known path (the target then answers 405 if it must), as Starlette does.
    EXPECT_EQ(call(bhttp::verb::get, "/execute/").result_int(), 307u);
    EXPECT_EQ(call(bhttp::verb::get, "/nope/").result_int(), 404u);
    EXPECT_EQ(call(bhttp::verb::get, "/health//").result_int(), 404u);
    EXPECT_EQ(call(bhttp::verb::get, "/").result_int(), 200u);
}

TEST_F(Routes, AbsoluteFormTargetsRouteByTheirPath) {
    EXPECT_EQ(call(bhttp::verb::get, "http://127.0.0.1:8000/health").result_int(), 200u);
    EXPECT_EQ(call(bhttp::verb::get, "HTTP://example.com/runtime?x=1").result_int(), 200u);
    auto res = call(bhttp::verb::get, "http://127.0.0.1:8000");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_NE(res.body().find("SimplePySandbox API"), std::string::npos);
    res = call(bhttp::verb::get, "http://127.0.0.1:8000/health/?a=1");
    EXPECT_EQ(res.result_int(), 307u);
    EXPECT_EQ(res[bhttp::field::location], "/health?a=1");
    EXPECT_EQ(call(bhttp::verb::get, "http://127.0.0.1:8000/nope").result_int(), 404u);
}

TEST_F(Routes, OpenApiDocumentListsExactlyTheRoutes) {
    auto res = call(bhttp::verb::get, "/openapi.json");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[bhttp::field::content_type], "application/json");
    auto doc = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
    BodyParser parser(1);
    http::Router router = make_routes(service, cfg, parser);
    // The server adds the jobs subsystem's routes to the same router (serve_command.cpp).
    const auto dir = std::filesystem::temp_directory_path() / ("sbx-routes-" + std::to_string(::getpid()));
    auto store = store::open_store({dir, "", 1});
    ASSERT_TRUE(store.has_value()) << store.error().render();
    asio::io_context io;
    jobs::AddressPolicy policy({}, {});
    jobs::JobsContext jobs_ctx{cfg, *store->repository, service, io.get_executor(), io.get_executor(), policy, "test"};
    jobs::add_job_routes(router, jobs_ctx, {});
    std::size_t operations = 0;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        for (const auto& [method, op] : item.as_object()) {
            std::string upper;
            for (char c : method) upper += static_cast<char>(std::toupper(c));
            EXPECT_NE(router.allowed_methods(path).find(upper), std::string::npos)
                << upper << " " << std::string_view(path) << " is documented but not routed";
            ++operations;
        }
    }
    // GET / /health /runtime /openapi.json /docs /ui /ui/assets/{name} /runs /runs/{id}
    // /admin/keys /metrics /jobs/{id}, POST /execute /admin/keys /jobs, PATCH and DELETE
    // /admin/keys/{id}
    EXPECT_EQ(operations, 17u);
    // And the other way: every route (templated ones by their template) is documented.
    const auto& paths = doc.at("paths").as_object();
    for (const auto& [method, path] : router.routes()) {
        std::string lower(bhttp::to_string(method));
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto* item = paths.if_contains(path);
        EXPECT_TRUE(item != nullptr && item->as_object().contains(lower))
            << lower << " " << path << " is routed but not documented";
    }
    std::filesystem::remove_all(dir);
}

TEST_F(Routes, DocsPageLoadsSwaggerUiForTheDocument) {
    auto res = call(bhttp::verb::get, "/docs");
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=utf-8");
    EXPECT_NE(res.body().find("url: \"/openapi.json\""), std::string::npos);
    EXPECT_NE(res.body().find("https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"),
              std::string::npos);
}

TEST_F(Routes, Health) {
    auto res = call(bhttp::verb::get, "/health");
    EXPECT_EQ(res.result_int(), 200u);
    std::regex shape(
        R"(\{"status":"healthy","draining":false,"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z","reasons":\[\],"layers":\[\],)"
        R"("run_mode":"zygote","runs":\{"running":0,"queued":0,"capacity":4,"queue_capacity":64,"prepared":0\},)"
        R"("python":\{"version":"3\.11\.2","packages":\{"numpy":"1\.24\.2"\}\}\})");
    EXPECT_TRUE(std::regex_match(res.body(), shape)) << res.body();
    res = call(bhttp::verb::get, "/runtime");
    EXPECT_EQ(res.body(),
              R"({"python_version":"3.11.2","packages":{"numpy":"1.24.2"},"run_mode":"zygote"})");
}

TEST_F(Routes, CorsPreflight) {
    auto res = call(bhttp::verb::options, "/execute", {},
                    {{bhttp::field::origin, "http://app.example"},
                     {bhttp::field::access_control_request_method, "POST"},
                     {bhttp::field::access_control_request_headers, "content-type"}});
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "OK");
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "http://app.example");
    EXPECT_EQ(res[bhttp::field::access_control_allow_methods],
              "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
    EXPECT_EQ(res[bhttp::field::access_control_allow_headers], "content-type");
    EXPECT_EQ(res[bhttp::field::access_control_allow_credentials], "true");
    EXPECT_EQ(res[bhttp::field::access_control_max_age], "600");
    EXPECT_EQ(res[bhttp::field::vary], "Origin");
    // OPTIONS without the preflight headers is an ordinary request: 405.
    EXPECT_EQ(call(bhttp::verb::options, "/execute").result_int(), 405u);
}

TEST_F(Routes, CorsSimpleResponses) {
    auto res = call(bhttp::verb::get, "/", {}, {{bhttp::field::origin, "http://a"}});
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "*");
    EXPECT_EQ(res[bhttp::field::access_control_allow_credentials], "true");
    res = call(bhttp::verb::get, "/", {},
               {{bhttp::field::origin, "http://a"}, {bhttp::field::cookie, "x=1"}});
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "http://a");
    res = call(bhttp::verb::get, "/");
    EXPECT_EQ(res.find(bhttp::field::access_control_allow_origin), res.end());
}

TEST_F(Routes, CorsRestrictedOrigins) {
    cfg.allowed_origins = {"http://good"};
    auto res = call(bhttp::verb::options, "/execute", {},
                    {{bhttp::field::origin, "http://evil"},
                     {bhttp::field::access_control_request_method, "POST"}});
    EXPECT_EQ(res.result_int(), 400u);
    EXPECT_EQ(res.body(), "Disallowed CORS origin");
    res = call(bhttp::verb::get, "/", {}, {{bhttp::field::origin, "http://good"}});
    EXPECT_EQ(res[bhttp::field::access_control_allow_origin], "http://good");
    res = call(bhttp::verb::get, "/", {}, {{bhttp::field::origin, "http://evil"}});
    EXPECT_EQ(res.find(bhttp::field::access_control_allow_origin), res.end());
}

TEST_F(Routes, CorsKeepsTheRoutesOwnVary) {
    cfg.allowed_origins = {"http://good"};
    auto page = call(bhttp::verb::get, "/ui");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(page.body(), m, std::regex("ui/assets/main-[A-Z0-9]+\\.js")));
    auto res = call(bhttp::verb::get, "/" + m.str(), {}, {{bhttp::field::origin, "http://good"}});
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res[bhttp::field::vary], "Accept-Encoding, Origin");
}

TEST_F(Routes, ExecuteOk) {
    service.reply.outcome.verdict = sandbox::Verdict::ok;
    service.reply.outcome.exit_code = 0;
    service.reply.outcome.stdout_text = "hi\n";
    auto res = call(bhttp::verb::post, "/execute", R"j({"code":"print('hi')","timeout":5})j",
                    {{bhttp::field::content_type, "application/json"}});
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body().rfind(R"({"success":true,"stdout":"hi\n","stderr":"",)", 0), 0u)
        << res.body();
    EXPECT_EQ(res.find("X-Sbx-Verdict"), res.end());
    EXPECT_EQ(service.last.code, "print('hi')");
    EXPECT_EQ(service.last.timeout.count(), 5);
    EXPECT_EQ(service.last.request_id, "42");
}

TEST_F(Routes, ExecuteAddsARunIdAndTheKeyConcurrencyRefusal) {
    service.reply.outcome.verdict = sandbox::Verdict::ok;
    auto res = call(bhttp::verb::post, "/execute", R"({"code":"x"})");
    auto body = boost::json::parse(res.body()).as_object();
    EXPECT_EQ(body.at("run_id").as_string().size(), 26u);
    EXPECT_EQ(std::prev(body.end())->key(), "run_id");  // added last: the original's order kept
    service.reply.rejected = pool::Rejection::subject_limit;
    service.reply.limit = auth::LimitDecision::refuse(auth::LimitKind::concurrency, 1, {2, 0, 1},
                                                      "Concurrency limit exceeded: 2 runs at once");
    res = call(bhttp::verb::post, "/execute", R"({"code":"x"})");
    EXPECT_EQ(res.result_int(), 429u);
    EXPECT_EQ(res["RateLimit-Limit"], "2");
    EXPECT_EQ(res[bhttp::field::retry_after], "1");
    EXPECT_EQ(res.body(), R"({"detail":"Concurrency limit exceeded: 2 runs at once"})");
}

TEST_F(Routes, StoreRoutesWithoutAStore) {
    EXPECT_EQ(call(bhttp::verb::get, "/runs").result_int(), 503u);
    EXPECT_EQ(call(bhttp::verb::get, "/runs/run_x").result_int(), 503u);
    // Without keys nobody is an admin.
    EXPECT_EQ(call(bhttp::verb::get, "/admin/keys").result_int(), 403u);
    EXPECT_EQ(call(bhttp::verb::get, "/metrics").result_int(), 404u);  // no metrics registry
}

TEST_F(Routes, TheVerdictGoesToTheRequestLogLine) {
    service.reply.outcome.verdict = sandbox::Verdict::timeout;
    auto res = call(bhttp::verb::post, "/execute", R"({"code":"x"})");
    EXPECT_EQ(res.result_int(), 200u);
    ASSERT_FALSE(ctx.log.items().empty());
    EXPECT_EQ(ctx.log.items().front(),
              std::make_pair(std::string("verdict"), std::string("timeout")));
    EXPECT_EQ(ctx.route, "/execute");
    call(bhttp::verb::get, "/health");
    EXPECT_EQ(ctx.log.items().front().second, "-");
}

TEST_F(Routes, ExecuteRejections) {
    service.reply.rejected = pool::Rejection::queue_full;
    auto res = call(bhttp::verb::post, "/execute", R"({"code":"x"})");
    EXPECT_EQ(res.result_int(), 429u);
    EXPECT_EQ(res[bhttp::field::retry_after], "1");
    EXPECT_EQ(res.body(),
              R"({"detail":"Too many requests: all run slots are busy and the queue is full"})");
    service.reply.rejected = pool::Rejection::shutting_down;
    res = call(bhttp::verb::post, "/execute", R"({"code":"x"})");
    EXPECT_EQ(res.result_int(), 503u);
    EXPECT_FALSE(res[bhttp::field::retry_after].empty());
    service.reply.rejected = pool::Rejection::unavailable;
    EXPECT_EQ(call(bhttp::verb::post, "/execute", R"({"code":"x"})").result_int(), 503u);
    service.reply.rejected = pool::Rejection::queue_timeout;
    EXPECT_EQ(call(bhttp::verb::post, "/execute", R"({"code":"x"})").result_int(), 429u);
}

TEST_F(Routes, ExceptionBecomes500) {
    service.throw_on_run = true;
    auto res = call(bhttp::verb::post, "/execute", R"({"code":"x"})");
    EXPECT_EQ(res.result_int(), 500u);
    EXPECT_EQ(res.body(), R"({"detail":"Internal server error"})");
}

}  // namespace
}  // namespace sbx::api
