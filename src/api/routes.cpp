// Route handlers and the CORS wrapper around them.
#include "api/routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <memory>

#include "api/access.h"
#include "api/api_error.h"
#include "api/body_parser.h"
#include "api/cors.h"
#include "api/execute_request.h"
#include "api/health.h"
#include "api/json_text.h"
#include "api/openapi_document.h"
#include "api/run_history.h"
#include "api/run_response.h"
#include "api/store_routes.h"
#include "auth/cpu_quota.h"
#include "auth/key_cache.h"
#include "auth/rate_limiter.h"
#include "metrics/metrics.h"
#include "store/history_recorder.h"
#include "store/retention.h"
#include "log/log.h"
#include "web/ui_routes.h"

namespace sbx::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using http::Reply;
using http::Request;
using http::RequestContext;
using http::Response;

namespace {

// The request log line's field for the run's verdict ("-" for requests without a run).
constexpr std::string_view kVerdictField = "verdict";

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
        case pool::Rejection::subject_limit:  // normally answered from RunReply::limit
            return {ApiErrorKind::queue_full, "Too many requests: concurrency limit exceeded", {}, {}};
        case pool::Rejection::no_run_uid:
            return {ApiErrorKind::unavailable,
                    "Service unavailable: every sandbox uid is in use (SANDBOX_UIDS = " +
                        std::to_string(cfg.effective_sandbox_uids()) + ")",
                    {},
                    {}};
    }
    return {ApiErrorKind::unavailable, "Service unavailable", {}, {}};
}

// A refusal by the engine's admission: the key's own limit (with its RateLimit-* values),
// the shared queue, shutdown or missing isolation.
Response refused_run(const Backends& b, const config::Config& cfg, const pool::RunReply& reply) {
    if (*reply.rejected == pool::Rejection::subject_limit && reply.limit) {
        return limit_response(b, *reply.limit);
    }
    const bool queue = *reply.rejected == pool::Rejection::queue_full ||
                       *reply.rejected == pool::Rejection::queue_timeout;
    if (queue && b.metrics != nullptr) b.metrics->rate_limited("queue");
    return to_response(rejection_error(*reply.rejected, cfg));
}

asio::awaitable<Reply> execute(pool::RunService& service, const config::Config& cfg,
                               BodyParser& parser, const Backends& b, RequestContext& ctx,
                               Request req) {
    const std::string& id = ctx.id;
    auto run = co_await parser.parse(std::string(req[bhttp::field::content_type]),
                                     std::move(req.body()), cfg, id);
    if (!run) {
        if (!run.error().log_detail.empty()) {
            log::info("request body refused", {{"req", id}, {"why", run.error().log_detail}});
        }
        co_return to_response(run.error());
    }
    const auth::Identity& who = caller(ctx);
    if (auto refused = acquire_run_limits(b, who, *run)) co_return std::move(*refused);
    ResponseContext limits{run->timeout.count(), cfg.memory_limit_bytes, cfg.max_output_bytes};
    RunInput input = run_input(*run, cfg);
    pool::RunReply reply = co_await service.run(std::move(*run));
    if (reply.rejected) co_return refused_run(b, cfg, reply);
    if (reply.outcome.failure) {
        log::error("run failed", {{"req", id},
                                  {"verdict", sandbox::to_string(reply.outcome.verdict)},
                                  {"failure", reply.outcome.failure->render()}});
    }
    charge_run(b, who, reply.outcome.cpu_time_s);
    ctx.log.set(kVerdictField, std::string(sandbox::to_string(reply.outcome.verdict)));
    const std::string run_id = new_run_id();
    ctx.log.set("run_id", run_id);
    auto body = run_response_body(reply.outcome, limits);
    record_run(b, cfg, RunFacts{run_id, &who, &input, &reply, ctx.start_time,
                                body["status"].as_string()});
    body["run_id"] = run_id;
    co_return json_ok(body);
}

// /health: the engine's report, degraded also while the store, the key list, the shared rate
// buckets, the CPU quota or retention fail (runs go on meanwhile).
pool::HealthReport health_report(pool::RunService& service, const Backends& b) {
    auto h = service.health();
    auto add = [&h](std::string reason) {
        if (reason.empty()) return;
        h.reasons.push_back(std::move(reason));
        h.healthy = false;
    };
    if (b.history != nullptr) {
        auto st = b.history->status();
        if (st.degraded) add(st.reason);
    }
    if (b.keys != nullptr) {
        auto st = b.keys->status();
        if (st.stale) add(st.reason);
    }
    if (b.rate != nullptr) add(b.rate->degraded_reason());
    if (b.cpu != nullptr) add(b.cpu->degraded_reason());
    if (b.retention != nullptr) {
        auto err = b.retention->status().last_error;
        if (!err.empty()) add("retention: " + err);
    }
    return h;
}

}  // namespace

http::Router make_routes(pool::RunService& service, const config::Config& cfg, BodyParser& parser) {
    static const Backends kNone;
    return make_routes(service, cfg, parser, kNone);
}

http::Router make_routes(pool::RunService& service, const config::Config& cfg, BodyParser& parser,
                         const Backends& b) {
    http::Router router;
    router.add(bhttp::verb::get, "/", [](RequestContext&, Request) -> asio::awaitable<Reply> {
        co_return json_ok(root_body());
    });
    router.add(
        bhttp::verb::get, "/health",
        [&service, &b](RequestContext&, Request) -> asio::awaitable<Reply> {
            co_return json_ok(
                health_body(health_report(service, b), std::chrono::system_clock::now()));
        });
    router.add(bhttp::verb::get, "/runtime",
               [&service](RequestContext&, Request) -> asio::awaitable<Reply> {
                   co_return json_ok(runtime_body(service.health()));
               });
    router.add(bhttp::verb::post, "/execute",
               [&service, &cfg, &parser, &b](RequestContext& ctx, Request req) {
                   return execute(service, cfg, parser, b, ctx, std::move(req));
               });
    router.add(bhttp::verb::get, "/openapi.json",
               [](RequestContext&, Request) -> asio::awaitable<Reply> {
                   co_return http::json_response(bhttp::status::ok, std::string(openapi_json()));
               });
    router.add(bhttp::verb::get, "/docs", [](RequestContext&, Request) -> asio::awaitable<Reply> {
        co_return html_ok(docs_html());
    });
    add_run_routes(router, b);
    add_admin_routes(router, b);
    add_metrics_route(router, b);
    web::add_ui_routes(router);
    return router;
}

namespace {

// Threads that parse large bodies (BodyParser): the I/O threads stay free meanwhile.
constexpr unsigned kBodyParserThreads = 2;

// The API's router and the parser pool its /execute handler uses (destroyed after it).
struct ApiRoutes {
    ApiRoutes(pool::RunService& service, const config::Config& cfg, const Backends& b,
              const std::function<void(http::Router&)>& more_routes)
        : parser(kBodyParserThreads), backends(b),
          router(make_routes(service, cfg, parser, backends)) {
        if (more_routes) more_routes(router);
    }

    BodyParser parser;  // before router, which refers to it
    Backends backends;  // likewise
    http::Router router;
};

struct CorsRouter {
    std::shared_ptr<const http::Router> router;
    Cors cors;
    const config::Config& cfg;
    Backends backends;
};

unsigned status_code(const Reply& reply) {
    if (const auto* res = std::get_if<Response>(&reply)) return res->result_int();
    if (const auto* stream = std::get_if<http::StreamingResponse>(&reply)) {
        return stream->head.result_int();
    }
    return 101;  // WebSocket takeover
}

void decorate(const Cors& cors, const CorsRequest& request, Reply& reply) {
    if (auto* res = std::get_if<Response>(&reply)) cors.decorate(request, *res);
    if (auto* stream = std::get_if<http::StreamingResponse>(&reply)) {
        cors.decorate(request, stream->head);
    }
}

asio::awaitable<Reply> handle(std::shared_ptr<const CorsRouter> shared, RequestContext& ctx,
                              Request req) {
    ctx.log.set(kVerdictField, "-");
    if (auto pre = shared->cors.preflight(req)) co_return std::move(*pre);
    CorsRequest cors = Cors::inspect(req);
    if (boost::beast::websocket::is_upgrade(req) && !shared->cors.origin_allowed(cors)) {
        co_return http::detail_response(bhttp::status::forbidden, "Origin not allowed");
    }
    const auto method = req.method_string();
    std::string method_text(method.data(), method.size());
    auto refused = co_await authorize(shared->backends, shared->cfg, ctx, req);
    Reply reply;
    if (refused) {
        reply = std::move(*refused);
    } else {
        reply = co_await shared->router->dispatch(ctx, std::move(req));
    }
    decorate(shared->cors, cors, reply);
    if (shared->backends.metrics != nullptr) {
        shared->backends.metrics->http_request(ctx.route.empty() ? "other" : ctx.route,
                                               method_text, status_code(reply));
    }
    co_return std::move(reply);
}

}  // namespace

http::Handler with_cors(std::shared_ptr<const http::Router> router, const config::Config& cfg,
                        const Backends& backends) {
    auto shared = std::make_shared<const CorsRouter>(
        CorsRouter{std::move(router), Cors(cfg.allowed_origins), cfg, backends});
    return
        [shared](RequestContext& ctx, Request req) { return handle(shared, ctx, std::move(req)); };
}

http::Handler make_handler(pool::RunService& service, const config::Config& cfg,
                           const Backends& backends,
                           const std::function<void(http::Router&)>& more_routes) {
    auto routes = std::make_shared<const ApiRoutes>(service, cfg, backends, more_routes);
    return with_cors(std::shared_ptr<const http::Router>(routes, &routes->router), cfg, backends);
}

}  // namespace sbx::api
