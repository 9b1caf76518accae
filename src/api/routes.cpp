// Route handlers and the per-request wrapper (CORS, one log line, the 500 boundary).
#include "api/routes.h"

#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/field.hpp>
#include <chrono>
#include <exception>
#include <memory>

#include "api/api_error.h"
#include "api/body_parser.h"
#include "api/cors.h"
#include "api/execute_request.h"
#include "api/health.h"
#include "api/json_text.h"
#include "api/openapi_document.h"
#include "api/run_response.h"
#include "log/log.h"
#include "web/ui_routes.h"

namespace sbx::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using http::Request;
using http::Response;

namespace {

// Internal header: the execute handler reports the verdict to the request log line through
// it; the wrapper removes it before the response leaves.
constexpr std::string_view kVerdictHeader = "X-Sbx-Verdict";

Response json_ok(const boost::json::value& body) {
    return http::json_response(bhttp::status::ok, to_json_text(body));
}

Response html_ok(std::string_view page) {
    Response res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "text/html; charset=utf-8");
    res.body() = std::string(page);
    res.prepare_payload();
    return res;
}

ApiError rejection_error(pool::Rejection r, const config::Config& cfg) {
    switch (r) {
        case pool::Rejection::queue_full:
            return {ApiErrorKind::queue_full,
                    "Too many requests: all run slots are busy and the queue is full",
                    {},
                    {}};
        case pool::Rejection::queue_timeout:
            return {ApiErrorKind::queue_timeout,
                    "Too many requests: no run slot became free within " +
                        std::to_string(cfg.queue_timeout.count()) + " seconds",
                    {},
                    {}};
        case pool::Rejection::shutting_down:
            return {ApiErrorKind::shutting_down, "Service is shutting down", {}, {}};
        case pool::Rejection::unavailable:
            return {ApiErrorKind::unavailable,
                    "Service unavailable: sandbox isolation is not available",
                    {},
                    {}};
    }
    return {ApiErrorKind::unavailable, "Service unavailable", {}, {}};
}

asio::awaitable<Response> execute(pool::RunService& service, const config::Config& cfg,
                                  BodyParser& parser, Request req) {
    std::string id(req[http::kRequestIdHeader]);
    auto run = co_await parser.parse(std::string(req[bhttp::field::content_type]),
                                     std::move(req.body()), cfg, id);
    if (!run) {
        if (!run.error().log_detail.empty()) {
            log::info("request body refused", {{"req", id}, {"why", run.error().log_detail}});
        }
        co_return to_response(run.error());
    }
    ResponseContext ctx{run->timeout.count(), cfg.memory_limit_bytes, cfg.max_output_bytes};
    pool::RunReply reply = co_await service.run(std::move(*run));
    if (reply.rejected) co_return to_response(rejection_error(*reply.rejected, cfg));
    if (reply.outcome.failure) {
        log::error("run failed", {{"req", id},
                                  {"verdict", sandbox::to_string(reply.outcome.verdict)},
                                  {"failure", reply.outcome.failure->render()}});
    }
    Response res = json_ok(run_response_body(reply.outcome, ctx));
    res.set(kVerdictHeader, sandbox::to_string(reply.outcome.verdict));
    co_return res;
}

}  // namespace

http::Router make_routes(pool::RunService& service, const config::Config& cfg, BodyParser& parser) {
    http::Router router;
    router.add(bhttp::verb::get, "/",
               [](Request) -> asio::awaitable<Response> { co_return json_ok(root_body()); });
    router.add(bhttp::verb::get, "/health", [&service](Request) -> asio::awaitable<Response> {
        co_return json_ok(health_body(service.health(), std::chrono::system_clock::now()));
    });
    router.add(bhttp::verb::get, "/runtime", [&service](Request) -> asio::awaitable<Response> {
        co_return json_ok(runtime_body(service.health()));
    });
    router.add(bhttp::verb::post, "/execute", [&service, &cfg, &parser](Request req) {
        return execute(service, cfg, parser, std::move(req));
    });
    router.add(bhttp::verb::get, "/openapi.json", [](Request) -> asio::awaitable<Response> {
        co_return http::json_response(bhttp::status::ok, std::string(openapi_json()));
    });
    router.add(bhttp::verb::get, "/docs",
               [](Request) -> asio::awaitable<Response> { co_return html_ok(docs_html()); });
    web::add_ui_routes(router);
    return router;
}

namespace {

// Threads that parse large bodies (BodyParser): the I/O threads stay free meanwhile.
constexpr unsigned kBodyParserThreads = 2;

struct Shared {
    Shared(pool::RunService& service, const config::Config& cfg)
        : parser(kBodyParserThreads),
          router(make_routes(service, cfg, parser)),
          cors(cfg.allowed_origins) {}

    BodyParser parser;  // before router, which refers to it
    http::Router router;
    Cors cors;
};

struct RequestInfo {
    std::string id, method, path;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

void log_request(const RequestInfo& info, unsigned status, std::string_view verdict) {
    auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - info.start);
    log::info("request", {{"req", info.id},
                          {"method", info.method},
                          {"path", info.path},
                          {"status", status},
                          {"verdict", verdict.empty() ? std::string_view("-") : verdict},
                          {"duration_ms", static_cast<long long>(ms.count())}});
}

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

asio::awaitable<Response> handle(std::shared_ptr<const Shared> shared, Request req) {
    RequestInfo info{std::string(req[http::kRequestIdHeader]), std::string(req.method_string()),
                     std::string(http::Router::path_of(req.target()))};
    if (auto pre = shared->cors.preflight(req)) {
        log_request(info, pre->result_int(), {});
        co_return std::move(*pre);
    }
    CorsRequest cors = Cors::inspect(req);
    Response res;
    std::exception_ptr failure;
    try {
        res = co_await shared->router.dispatch(std::move(req));
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
            log_request(info, 499, "cancelled");
            std::rethrow_exception(failure);
        }
        log::error("request failed", {{"req", info.id}, {"error", describe(failure)}});
        res = http::detail_response(bhttp::status::internal_server_error, "Internal server error");
    }
    std::string verdict(res[kVerdictHeader]);
    res.erase(kVerdictHeader);
    shared->cors.decorate(cors, res);
    log_request(info, res.result_int(), verdict);
    co_return res;
}

}  // namespace

http::Handler make_handler(pool::RunService& service, const config::Config& cfg) {
    auto shared = std::make_shared<const Shared>(service, cfg);
    return [shared](Request req) { return handle(shared, std::move(req)); };
}

}  // namespace sbx::api
