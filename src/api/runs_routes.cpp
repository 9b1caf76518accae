// GET /runs (newest first, cursor paging, filters) and GET /runs/{id}, scoped to the caller.
#include <boost/json.hpp>

#include "api/access.h"
#include "api/blocking.h"
#include "api/run_history.h"
#include "api/store_routes.h"
#include "log/log.h"
#include "store/repository.h"

namespace sbx::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

// Longest text accepted in a filter (a run id is 26 bytes, a session id about as long).
constexpr std::size_t kMaxFilterBytes = 128;
constexpr std::size_t kMaxLimit = 1000;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a space); nullopt for a bad escape.
std::optional<std::string> form_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] != '%') {
            out += s[i];
        } else if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

// One 422 item, FastAPI's shape for a query parameter.
json::object query_error(std::string_view name, std::string_view type, std::string msg,
                         std::string_view input) {
    json::object e{{"type", type}, {"loc", json::array{"query", name}}, {"msg", std::move(msg)}};
    if (input.size() <= kMaxFilterBytes) e["input"] = input;
    return e;
}

struct ParsedQuery {
    store::RunQuery query;
    json::array errors;
};

void set_filter(ParsedQuery& p, std::string_view name, const std::string& value) {
    if (value.size() > kMaxFilterBytes) {
        p.errors.push_back(query_error(
            name, "string_too_long",
            "String should have at most " + std::to_string(kMaxFilterBytes) + " characters",
            value));
        return;
    }
    auto& q = p.query;
    (name == "before" ? q.before : name == "status" ? q.status : q.session_id) = value;
}

void set_limit(ParsedQuery& p, const std::string& value) {
    std::size_t n = 0;
    const bool digits = !value.empty() && value.size() <= 7 &&
                        value.find_first_not_of("0123456789") == std::string::npos;
    if (digits) n = std::stoul(value);
    if (!digits) {
        p.errors.push_back(query_error("limit", "int_parsing",
                                       "Input should be a valid integer, unable to parse string "
                                       "as an integer",
                                       value));
    } else if (n < 1 || n > kMaxLimit) {
        p.errors.push_back(query_error("limit", n < 1 ? "greater_than_equal" : "less_than_equal",
                                       n < 1 ? "Input should be greater than or equal to 1"
                                             : "Input should be less than or equal to 1000",
                                       value));
    } else {
        p.query.limit = n;
    }
}

ParsedQuery parse_query(std::string_view query) {
    ParsedQuery p;
    if (query.starts_with('?')) query.remove_prefix(1);
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = pair.find('=');
        auto name = form_decode(pair.substr(0, eq));
        auto value = form_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (!name || !value) {
            p.errors.push_back(
                query_error(name.value_or("?"), "url_decoding", "Invalid percent-encoding", pair));
        } else if (*name == "limit") {
            set_limit(p, *value);
        } else if (*name == "before" || *name == "status" || *name == "session_id") {
            set_filter(p, *name, *value);
        }  // others are ignored, as FastAPI does
    }
    return p;
}

asio::awaitable<http::Reply> list_runs(const Backends& b, http::RequestContext& ctx,
                                       http::Request req) {
    if (b.repository == nullptr)
        co_return store_unavailable("Run history", {store::StoreErrc::unavailable, "no store"});
    auto parsed = parse_query(http::Router::query_of(req.target()));
    if (!parsed.errors.empty()) {
        co_return http::json_response(bhttp::status::unprocessable_entity,
                                      json::serialize(json::object{{"detail", parsed.errors}}));
    }
    parsed.query.key_id = caller(ctx).scope();
    auto list = [repo = b.repository, q = parsed.query] { return repo->list_runs(q); };
    auto page = co_await on_blocking(b.blocking, list);
    if (!page && page.error().code == store::StoreErrc::invalid) {
        co_return http::detail_response(bhttp::status::bad_request,
                                        "before: no such run (a run id from this list)");
    }
    if (!page) co_return store_unavailable("Run history", page.error());
    json::array runs;
    for (const auto& r : page->runs) runs.push_back(run_json(r));
    json::object body{{"runs", std::move(runs)}};
    body["next"] = page->next ? json::value(*page->next) : json::value(nullptr);
    co_return http::json_response(bhttp::status::ok, json::serialize(body));
}

asio::awaitable<http::Reply> get_run(const Backends& b, http::RequestContext& ctx) {
    const std::string id(ctx.param("id"));
    if (b.repository == nullptr)
        co_return store_unavailable("Run history", {store::StoreErrc::unavailable, "no store"});
    std::optional<store::RunRecord> found;
    if (id.size() <= kMaxFilterBytes) {
        auto get = [repo = b.repository, id, scope = caller(ctx).scope()] {
            return repo->get_run(id, scope);
        };
        auto got = co_await on_blocking(b.blocking, get);
        if (!got && got.error().code != store::StoreErrc::invalid) {
            co_return store_unavailable("Run history", got.error());
        }
        if (got) found = std::move(*got);
    }
    if (!found) co_return http::detail_response(bhttp::status::not_found, "Run not found");
    co_return http::json_response(bhttp::status::ok, json::serialize(run_json(*found)));
}

}  // namespace

http::Response store_unavailable(std::string_view what, const store::StoreError& e) {
    log::warn("store unavailable", {{"what", what}, {"error", e.render()}});
    auto res = http::json_response(
        bhttp::status::service_unavailable,
        json::serialize(json::object{
            {"detail", std::string(what) + " is unavailable: the database cannot be reached"}}));
    res.set(bhttp::field::retry_after, "5");
    return res;
}

void add_run_routes(http::Router& router, const Backends& b) {
    router.add(bhttp::verb::get, "/runs", [&b](http::RequestContext& ctx, http::Request req) {
        return list_runs(b, ctx, std::move(req));
    });
    router.add(bhttp::verb::get, "/runs/{id}",
               [&b](http::RequestContext& ctx, http::Request) { return get_run(b, ctx); });
}

}  // namespace sbx::api
