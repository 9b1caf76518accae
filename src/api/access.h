// Access: who a request is (an API key, or the client's address) and the limits it is held to
// — the checks every route and every run makes, as small functions /execute and /jobs share.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string_view>

#include "api/backends.h"
#include "auth/identity.h"
#include "auth/limit_decision.h"
#include "config/config.h"
#include "http/message.h"
#include "http/request_context.h"
#include "sandbox/run_types.h"

namespace sbx::api {

// Routes anyone may call whatever AUTH_MODE says: GET/HEAD /, /health, and the web page (/ui,
// /ui/assets/...), which asks for a key itself. GET /metrics follows METRICS_AUTH (authorize).
[[nodiscard]] bool is_public(boost::beast::http::verb method, std::string_view path) noexcept;

// Who is calling, and may they go on? Fills ctx.identity (key id, name, role; the whole
// auth::Identity in its principal) and counts the request against its rate limit. Without
// AUTH_MODE=api_key (or on a public route) the caller is its client address with the ANON_*
// limits. Returns the refusal to send instead of running the route: 401 {"detail":"Invalid or
// missing API key"} with WWW-Authenticate: Bearer; 403 for /metrics with METRICS_AUTH=admin and
// a user key; 429 over the rate (Retry-After, RateLimit-*). Nothing else is consumed then.
[[nodiscard]] boost::asio::awaitable<std::optional<http::Response>> authorize(
    const Backends& backends, const config::Config& cfg, http::RequestContext& ctx,
    const http::Request& request);

// The caller authorize() recorded; an anonymous caller without limits when it did not run
// (routes tested alone).
[[nodiscard]] const auth::Identity& caller(const http::RequestContext& ctx);

// What a run of `who` needs before it is admitted: the CPU-seconds quota of the day (429 when
// spent), the key's network permission and caps (400 when the request asks beyond them). Sets
// the run's admission subject and concurrency limit (checked, fairly, by the engine's
// admission). nullopt: go on.
[[nodiscard]] std::optional<http::Response> acquire_run_limits(const Backends& backends,
                                                               const auth::Identity& who,
                                                               sandbox::RunRequest& run);

// A run of `who` ended having used `cpu_seconds`: counted against its daily quota.
void charge_run(const Backends& backends, const auth::Identity& who,
                std::optional<double> cpu_seconds);

// 429 {"detail": decision.detail} with Retry-After and RateLimit-Limit/Remaining/Reset; counted
// in the metrics by the limit that refused.
[[nodiscard]] http::Response limit_response(const Backends& backends,
                                            const auth::LimitDecision& decision);

// 401 {"detail":"Invalid or missing API key"} with WWW-Authenticate: Bearer.
[[nodiscard]] http::Response unauthorized();

}  // namespace sbx::api
