// Access: API key check, per-caller rate limit and per-run quota, and their refusals.
#include "api/access.h"

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>

#include "auth/cpu_quota.h"
#include "auth/credentials.h"
#include "auth/key_cache.h"
#include "auth/rate_limiter.h"
#include "http/router.h"
#include "log/throttle.h"
#include "metrics/metrics.h"

namespace sbx::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

std::optional<std::string_view> header(const http::Request& req, bhttp::field f) {
    auto it = req.find(f);
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
}

std::optional<std::string_view> header(const http::Request& req, std::string_view name) {
    auto it = req.find(name);
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
}

http::Response json_detail(bhttp::status status, std::string_view detail) {
    return http::json_response(status,
                               boost::json::serialize(boost::json::object{{"detail", detail}}));
}

auth::AnonLimits anon_limits(const config::Config& cfg) {
    return {cfg.anon_rate_per_s, cfg.anon_burst, cfg.anon_concurrency, cfg.anon_sessions,
            cfg.anon_cpu_per_day};
}

bool is_get(bhttp::verb m) { return m == bhttp::verb::get || m == bhttp::verb::head; }

void remember(http::RequestContext& ctx, auth::Identity who) {
    http::Identity id;
    id.key_id = who.key_id.value_or("");
    id.name = who.name;
    id.role = who.key_id ? std::string(store::to_string(who.role)) : "anonymous";
    if (who.key_id) ctx.log.set("key", *who.key_id);
    id.principal = std::move(who);
    ctx.identity = std::move(id);
}

// Who presents a valid key; nullopt when none is given or it is not valid.
asio::awaitable<std::optional<auth::Identity>> key_holder(const Backends& b,
                                                          const http::Request& req) {
    if (b.keys == nullptr) co_return std::nullopt;  // keys asked for but none loaded: closed
    auto cred = auth::credential_from_headers(header(req, bhttp::field::authorization),
                                              header(req, "X-API-Key"));
    if (!cred) co_return std::nullopt;
    std::string presented(cred->key);  // named: see on_blocking about GCC bug 99576
    auto result = co_await b.keys->authenticate(std::move(presented));
    co_return std::move(result.identity);
}

// 401s get at most one request line per second, which counts those it stands for: a burst of
// invalid keys must not flood the log.
http::Response refuse_key(http::RequestContext& ctx) {
    static log::Throttle throttle(std::chrono::seconds(1));
    if (auto n = throttle.note()) {
        ctx.log.set("unauthorized_since_last_line", std::to_string(*n));
    } else {
        ctx.log_line = false;
    }
    return unauthorized();
}

}  // namespace

bool is_public(bhttp::verb method, std::string_view path) noexcept {
    // The web page (/ui and its assets) asks for a key itself; its API calls send it.
    return is_get(method) &&
           (path == "/" || path == "/health" || path == "/ui" || path.starts_with("/ui/assets/"));
}

http::Response unauthorized() {
    auto res = http::detail_response(bhttp::status::unauthorized, "Invalid or missing API key");
    res.set(bhttp::field::www_authenticate, "Bearer");
    return res;
}

asio::awaitable<std::optional<http::Response>> authorize(const Backends& b,
                                                         const config::Config& cfg,
                                                         http::RequestContext& ctx,
                                                         const http::Request& req) {
    const auto path = http::Router::path_of(req.target());
    const bool metrics_route = is_get(req.method()) && path == "/metrics";
    const bool open = is_public(req.method(), path) ||
                      (metrics_route && cfg.metrics_auth == config::MetricsAuth::none);
    const bool needs_key = !open && (cfg.auth_mode == config::AuthMode::api_key || metrics_route);
    if (needs_key) {
        auto who = co_await key_holder(b, req);
        if (!who) co_return refuse_key(ctx);
        if (metrics_route && cfg.metrics_auth == config::MetricsAuth::admin && !who->is_admin()) {
            co_return json_detail(bhttp::status::forbidden, "An admin API key is required");
        }
        remember(ctx, std::move(*who));
    } else {
        remember(ctx, auth::anonymous_identity(ctx.peer.address().to_string(), anon_limits(cfg)));
    }
    if (open || metrics_route || b.rate == nullptr) co_return std::nullopt;
    const auto& who = caller(ctx);
    auto decision = co_await b.rate->acquire(
        who.subject, auth::RateSpec{who.limits.rate_per_s, static_cast<double>(who.limits.burst)});
    if (!decision.allowed) co_return limit_response(b, decision);
    co_return std::nullopt;
}

const auth::Identity& caller(const http::RequestContext& ctx) {
    static const auth::Identity kNobody = auth::anonymous_identity("", {});
    if (!ctx.identity) return kNobody;
    const auto* who = std::any_cast<auth::Identity>(&ctx.identity->principal);
    return who != nullptr ? *who : kNobody;
}

std::optional<http::Response> acquire_run_limits(const Backends& b, const auth::Identity& who,
                                                 sandbox::RunRequest& run) {
    if (b.cpu != nullptr) {
        auto decision = b.cpu->check(who.subject, who.limits.cpu_seconds_per_day);
        if (!decision.allowed) return limit_response(b, decision);
    }
    if (who.limits.network == false) {
        if (run.network.value_or(false)) {
            return json_detail(bhttp::status::bad_request,
                               "This API key may not use the network: \"network\": true cannot "
                               "be granted");
        }
        run.network = false;
    }
    const auto& caps = who.limits.caps;
    if (caps && caps->timeout_s && run.timeout.count() > *caps->timeout_s) {
        return json_detail(bhttp::status::bad_request, "timeout exceeds this API key's cap of " +
                                                           std::to_string(*caps->timeout_s) +
                                                           " seconds");
    }
    run.subject = who.subject;
    run.concurrency = who.limits.concurrency;
    return std::nullopt;
}

void charge_run(const Backends& b, const auth::Identity& who, std::optional<double> cpu_seconds) {
    if (b.cpu == nullptr || !cpu_seconds || *cpu_seconds <= 0) return;
    // Keys are always counted (usage per key); an address only when ANON_CPU_PER_DAY limits it.
    if (who.key_id || who.limits.cpu_seconds_per_day > 0) b.cpu->add(who.subject, *cpu_seconds);
}

http::Response limit_response(const Backends& b, const auth::LimitDecision& d) {
    auto res = json_detail(bhttp::status::too_many_requests,
                           d.detail.empty() ? "Too many requests" : d.detail);
    res.set(bhttp::field::retry_after, std::to_string(d.retry_after_s < 1 ? 1 : d.retry_after_s));
    if (d.values) {
        res.set("RateLimit-Limit", std::to_string(d.values->limit));
        res.set("RateLimit-Remaining", std::to_string(d.values->remaining));
        res.set("RateLimit-Reset", std::to_string(d.values->reset_s));
    }
    if (b.metrics != nullptr && d.exceeded) b.metrics->rate_limited(auth::to_string(*d.exceeded));
    return res;
}

}  // namespace sbx::api
