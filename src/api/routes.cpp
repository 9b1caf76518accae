// Route handlers and the CORS wrapper around them.
#include "api/routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
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
        case pool::Rejection::no_run_uid:
            return {ApiErrorKind::unavailable,
                    "Service unavailable: every sandbox uid is in use (SANDBOX_UIDS = " +
                        std::to_string(cfg.effective_sandbox_uids()) + ")",
                    {},
                    {}};
    }
    return {ApiErrorKind::unavailable, "Service unavailable", {}, {}};
}

asio::awaitable<Reply> execute(pool::RunService& service, const config::Config& cfg,
                               BodyParser& parser, RequestContext& ctx, Request req) {
    const std::string& id = ctx.id;
    auto run = co_await parser.parse(std::string(req[bhttp::field::content_type]),
                                     std::move(req.body()), cfg, id);
    if (!run) {
        if (!run.error().log_detail.empty()) {
            log::info("request body refused", {{"req", id}, {"why", run.error().log_detail}});
        }
        co_return to_response(run.error());
    }
    ResponseContext limits{run->timeout.count(), cfg.memory_limit_bytes, cfg.max_output_bytes};
    pool::RunReply reply = co_await service.run(std::move(*run));
    if (reply.rejected) co_return to_response(rejection_error(*reply.rejected, cfg));
    if (reply.outcome.failure) {
        log::error("run failed", {{"req", id},
                                  {"verdict", sandbox::to_string(reply.outcome.verdict)},
                                  {"failure", reply.outcome.failure->render()}});
    }
    ctx.log.set(kVerdictField, std::string(sandbox::to_string(reply.outcome.verdict)));
    co_return json_ok(run_response_body(reply.outcome, limits));
}

}  // namespace

http::Router make_routes(pool::RunService& service, const config::Config& cfg, BodyParser& parser) {
    http::Router router;
    router.add(bhttp::verb::get, "/", [](RequestContext&, Request) -> asio::awaitable<Reply> {
        co_return json_ok(root_body());
    });
    router.add(
        bhttp::verb::get, "/health",
        [&service](RequestContext&, Request) -> asio::awaitable<Reply> {
            co_return json_ok(health_body(service.health(), std::chrono::system_clock::now()));
        });
    router.add(bhttp::verb::get, "/runtime",
               [&service](RequestContext&, Request) -> asio::awaitable<Reply> {
                   co_return json_ok(runtime_body(service.health()));
               });
    router.add(bhttp::verb::post, "/execute",
               [&service, &cfg, &parser](RequestContext& ctx, Request req) {
                   return execute(service, cfg, parser, ctx, std::move(req));
               });
    router.add(bhttp::verb::get, "/openapi.json",
               [](RequestContext&, Request) -> asio::awaitable<Reply> {
                   co_return http::json_response(bhttp::status::ok, std::string(openapi_json()));
               });
    router.add(bhttp::verb::get, "/docs", [](RequestContext&, Request) -> asio::awaitable<Reply> {
        co_return html_ok(docs_html());
    });
    web::add_ui_routes(router);
    return router;
}

namespace {

// Threads that parse large bodies (BodyParser): the I/O threads stay free meanwhile.
constexpr unsigned kBodyParserThreads = 2;

// The API's router and the parser pool its /execute handler uses (destroyed after it).
struct ApiRoutes {
    ApiRoutes(pool::RunService& service, const config::Config& cfg,
              const std::function<void(http::Router&)>& more_routes)
        : parser(kBodyParserThreads), router(make_routes(service, cfg, parser)) {
        if (more_routes) more_routes(router);
    }

    BodyParser parser;  // before router, which refers to it
    http::Router router;
};

struct CorsRouter {
    std::shared_ptr<const http::Router> router;
    Cors cors;
};

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
    Reply reply = co_await shared->router->dispatch(ctx, std::move(req));
    decorate(shared->cors, cors, reply);
    co_return std::move(reply);
}

}  // namespace

http::Handler with_cors(std::shared_ptr<const http::Router> router, const config::Config& cfg) {
    auto shared = std::make_shared<const CorsRouter>(
        CorsRouter{std::move(router), Cors(cfg.allowed_origins)});
    return
        [shared](RequestContext& ctx, Request req) { return handle(shared, ctx, std::move(req)); };
}

http::Handler make_handler(pool::RunService& service, const config::Config& cfg,
                           const std::function<void(http::Router&)>& more_routes) {
    auto routes = std::make_shared<const ApiRoutes>(service, cfg, more_routes);
    return with_cors(std::shared_ptr<const http::Router>(routes, &routes->router), cfg);
}

}  // namespace sbx::api
