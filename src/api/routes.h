// The API's route table and the request handler the HTTP server runs (CORS + request log).
#pragma once

#include "api/body_parser.h"
#include "config/config.h"
#include "http/message.h"
#include "http/router.h"
#include "pool/run_service.h"

namespace sbx::api {

// GET / , GET /health, GET /runtime, POST /execute, GET /openapi.json, GET /docs, GET /ui (and
// its assets, web/ui_routes.h). `service`, `cfg` and `parser` (large /execute bodies are parsed
// on its pool) must outlive the router.
// Handlers never throw for client errors (they answer 4xx); a rejection from the engine becomes
// 429/503 with Retry-After.
[[nodiscard]] http::Router make_routes(pool::RunService& service, const config::Config& cfg,
                                       BodyParser& parser);

// make_routes wrapped with CORS (preflight + simple-response headers, ALLOWED_ORIGINS) and
// exactly one info log line per request: req, method, path, status, verdict, duration_ms.
// An exception from a route becomes 500 {"detail":"Internal server error"} (logged with the
// request id); when the client went away (the coroutine was cancelled) it is logged as
// status=499 and rethrown. Pass the result to http::Server.
[[nodiscard]] http::Handler make_handler(pool::RunService& service, const config::Config& cfg);

}  // namespace sbx::api
