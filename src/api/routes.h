// The API's route table and the request handler the HTTP server runs (CORS around the routes).
#pragma once

#include <functional>
#include <memory>

#include "api/body_parser.h"
#include "config/config.h"
#include "http/reply.h"
#include "http/router.h"
#include "pool/run_service.h"

namespace sbx::api {

// GET / , GET /health, GET /runtime, POST /execute, GET /openapi.json, GET /docs, GET /ui (and
// its assets, web/ui_routes.h). `service`, `cfg` and `parser` (large /execute bodies are parsed
// on its pool) must outlive the router.
// Handlers never throw for client errors (they answer 4xx); a rejection from the engine becomes
// 429/503 with Retry-After. Each sets the log field `verdict` ("-" unless a run had one).
[[nodiscard]] http::Router make_routes(pool::RunService& service, const config::Config& cfg,
                                       BodyParser& parser);

// `router` wrapped with CORS (ALLOWED_ORIGINS): preflights answered, simple-response headers on
// whole and streamed responses, and a WebSocket upgrade from a browser origin not allowed
// refused with 403 {"detail":"Origin not allowed"} before any route runs. Pass the result to
// http::Server. Exceptions are not caught here: the server turns them into 500s.
[[nodiscard]] http::Handler with_cors(std::shared_ptr<const http::Router> router,
                                      const config::Config& cfg);

// The API's routes (make_routes, with their own body parser pool) plus those `more_routes`
// adds (other subsystems' routes: jobs), wrapped by with_cors.
[[nodiscard]] http::Handler make_handler(
    pool::RunService& service, const config::Config& cfg,
    const std::function<void(http::Router&)>& more_routes = {});

}  // namespace sbx::api
