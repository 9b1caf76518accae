// The API's route table and the request handler the HTTP server runs (CORS around the routes).
#pragma once

#include <functional>
#include <memory>

#include "api/backends.h"
#include "api/body_parser.h"
#include "config/config.h"
#include "http/reply.h"
#include "http/router.h"
#include "pool/run_service.h"

namespace sbx::api {

// GET / , GET /health, GET /runtime, POST /execute, GET /openapi.json, GET /docs, GET /ui (and
// its assets, web/ui_routes.h), GET /runs, GET /runs/{id}, the admin API, GET /metrics.
// `service`, `cfg`, `parser` (large /execute bodies are parsed on its pool) and `backends`
// (the store, keys, limits, metrics; all null = none of them) must outlive the router.
// Handlers never throw for client errors (they answer 4xx); a rejection from the engine becomes
// 429/503 with Retry-After. Each sets the log field `verdict` ("-" unless a run had one); a run
// adds `run_id`.
[[nodiscard]] http::Router make_routes(pool::RunService& service, const config::Config& cfg,
                                       BodyParser& parser, const Backends& backends);
[[nodiscard]] http::Router make_routes(pool::RunService& service, const config::Config& cfg,
                                       BodyParser& parser);

// `router` wrapped with CORS (ALLOWED_ORIGINS): preflights answered, simple-response headers on
// whole and streamed responses, and a WebSocket upgrade from a browser origin not allowed
// refused with 403 {"detail":"Origin not allowed"} before any route runs. Then authorize()
// (API keys, rate limits) before the route, and the request counted in `backends.metrics`.
// Pass the result to http::Server. Exceptions are not caught here: the server turns them into
// 500s. `backends` must outlive the handler.
[[nodiscard]] http::Handler with_cors(std::shared_ptr<const http::Router> router,
                                      const config::Config& cfg, const Backends& backends = {});

// The API's routes (make_routes, with their own body parser pool) plus those `more_routes`
// adds (other subsystems' routes: jobs), wrapped by with_cors (so authorized like the others).
[[nodiscard]] http::Handler make_handler(
    pool::RunService& service, const config::Config& cfg, const Backends& backends = {},
    const std::function<void(http::Router&)>& more_routes = {});

}  // namespace sbx::api
