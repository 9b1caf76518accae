// The admin API over keys: GET/POST /admin/keys, PATCH/DELETE /admin/keys/{id}.
#include <boost/json.hpp>

#include "api/access.h"
#include "api/blocking.h"
#include "api/store_routes.h"
#include "auth/key_cache.h"
#include "auth/key_fields.h"
#include "auth/key_format.h"
#include "config/parse.h"
#include "log/log.h"
#include "store/repository.h"

namespace sbx::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxKeyIdBytes = 64;

http::Response detail(bhttp::status status, std::string_view text) {
    return http::json_response(status, json::serialize(json::object{{"detail", text}}));
}

// A JSON value as the text `pysandbox keys` takes for that field; nullopt for a wrong type.
std::optional<std::string> option_text(std::string_view field, const json::value& v) {
    if (field == "network") {
        if (v.is_null()) return "default";
        if (v.is_bool()) return v.get_bool() ? "yes" : "no";
        if (v.is_string()) return std::string(v.get_string());
        return std::nullopt;
    }
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    if (v.is_double()) return json::serialize(v);
    return std::nullopt;
}

// The body's fields into `fields`; an error text (400) when one is wrong. Unknown fields are
// ignored, as /execute does.
std::string read_fields(const json::object& body, store::KeyUpdate& fields) {
    static constexpr std::string_view kFields[] = {
        "name", "role", "rate", "burst", "concurrency", "sessions", "cpu_per_day", "network"};
    for (std::string_view f : kFields) {
        const json::value* v = body.if_contains(f);
        if (v == nullptr) continue;
        auto text = option_text(f, *v);
        std::string option = "--" + std::string(f);
        for (auto& c : option) c = c == '_' ? '-' : c;
        auto err = text ? auth::apply_key_field(fields, option, *text) : "wrong type";
        if (!err.empty()) return std::string(f) + ": " + (err == "?" ? "invalid" : err);
    }
    if (const json::value* caps = body.if_contains("caps")) {
        if (caps->is_null()) return auth::apply_key_field(fields, "--cap", "none");
        if (!caps->is_object()) return "caps: wants an object of caps or null";
        fields.caps = std::optional<store::LimitCaps>{store::LimitCaps{}};
        for (const auto& [name, value] : caps->get_object()) {
            auto text = option_text("caps", value);
            if (!text) return "caps: " + std::string(name) + " wants a number";
            auto err = auth::apply_key_field(fields, "--cap", std::string(name) + "=" + *text);
            if (!err.empty()) return "caps: " + err;
        }
    }
    return {};
}

std::optional<json::object> json_object(const http::Request& req) {
    boost::system::error_code ec;
    auto v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

asio::awaitable<http::Reply> list_keys(const Backends& b, http::Request req) {
    const bool all =
        http::Router::query_of(req.target()).find("all=true") != std::string_view::npos;
    auto list = [repo = b.repository, all] { return repo->list_keys(all); };
    auto keys = co_await on_blocking(b.blocking, list);
    if (!keys) co_return store_unavailable("The key store", keys.error());
    json::array arr;
    for (const auto& k : *keys) arr.push_back(auth::key_json(k));
    co_return http::json_response(bhttp::status::ok,
                                  json::serialize(json::object{{"keys", std::move(arr)}}));
}

asio::awaitable<http::Reply> create_key(const Backends& b, http::RequestContext& ctx,
                                        http::Request req) {
    auto body = json_object(req);
    if (!body) co_return detail(bhttp::status::bad_request, "The body must be a JSON object");
    store::KeyUpdate fields;
    if (auto err = read_fields(*body, fields); !err.empty()) {
        co_return detail(bhttp::status::bad_request, err);
    }
    if (!fields.name) co_return detail(bhttp::status::bad_request, "name: required");
    auto made = auth::generate_key();
    store::KeyRecord k;
    k.id = made.id;
    k.name = *fields.name;
    k.role = fields.role.value_or(store::Role::user);
    k.key_hash = made.hash;
    k.limits = auth::limits_for_create(fields);
    k.created_us = k.updated_us = store::now_us();
    auto create = [repo = b.repository, k] { return repo->create_key(k); };
    auto r = co_await on_blocking(b.blocking, create);
    if (!r) co_return store_unavailable("The key store", r.error());
    if (b.keys != nullptr) b.keys->put(k);
    log::info("api key created",
              {{"req", ctx.id}, {"key_id", k.id}, {"by", caller(ctx).key_id.value_or("-")}});
    auto out = auth::key_json(k);
    out["key"] = made.text;  // shown this once
    co_return http::json_response(bhttp::status::created, json::serialize(out));
}

asio::awaitable<http::Reply> change_key(const Backends& b, http::RequestContext& ctx,
                                        http::Request req, bool revoke) {
    const std::string id(ctx.param("id"));
    store::KeyUpdate fields;
    if (!revoke) {
        auto body = json_object(req);
        if (!body) co_return detail(bhttp::status::bad_request, "The body must be a JSON object");
        if (auto err = read_fields(*body, fields); !err.empty()) {
            co_return detail(bhttp::status::bad_request, err);
        }
    }
    if (id.size() > kMaxKeyIdBytes) co_return detail(bhttp::status::not_found, "API key not found");
    auto change = [repo = b.repository, id, fields, revoke] {
        const auto now = store::now_us();
        return revoke ? repo->revoke_key(id, now) : repo->update_key(id, fields, now);
    };
    auto r = co_await on_blocking(b.blocking, change);
    if (!r && (r.error().code == store::StoreErrc::not_found ||
               r.error().code == store::StoreErrc::invalid)) {
        co_return detail(bhttp::status::not_found, "API key not found");
    }
    if (!r) co_return store_unavailable("The key store", r.error());
    if (b.keys != nullptr) r->revoked_us ? b.keys->remove(r->id) : b.keys->put(*r);
    log::info(revoke ? "api key revoked" : "api key updated",
              {{"req", ctx.id}, {"key_id", id}, {"by", caller(ctx).key_id.value_or("-")}});
    co_return http::json_response(bhttp::status::ok, json::serialize(auth::key_json(*r)));
}

// Admins only; a store is needed.
std::optional<http::Response> refuse(const Backends& b, const http::RequestContext& ctx) {
    if (!caller(ctx).is_admin())
        return detail(bhttp::status::forbidden, "An admin API key is required");
    if (b.repository == nullptr) {
        return store_unavailable("The key store", {store::StoreErrc::unavailable, "no store"});
    }
    return std::nullopt;
}

}  // namespace

void add_admin_routes(http::Router& router, const Backends& b) {
    using Ctx = http::RequestContext;
    router.add(bhttp::verb::get, "/admin/keys",
               [&b](Ctx& ctx, http::Request req) -> asio::awaitable<http::Reply> {
                   if (auto no = refuse(b, ctx)) co_return std::move(*no);
                   co_return co_await list_keys(b, std::move(req));
               });
    router.add(bhttp::verb::post, "/admin/keys",
               [&b](Ctx& ctx, http::Request req) -> asio::awaitable<http::Reply> {
                   if (auto no = refuse(b, ctx)) co_return std::move(*no);
                   co_return co_await create_key(b, ctx, std::move(req));
               });
    router.add(bhttp::verb::patch, "/admin/keys/{id}",
               [&b](Ctx& ctx, http::Request req) -> asio::awaitable<http::Reply> {
                   if (auto no = refuse(b, ctx)) co_return std::move(*no);
                   co_return co_await change_key(b, ctx, std::move(req), false);
               });
    router.add(bhttp::verb::delete_, "/admin/keys/{id}",
               [&b](Ctx& ctx, http::Request req) -> asio::awaitable<http::Reply> {
                   if (auto no = refuse(b, ctx)) co_return std::move(*no);
                   co_return co_await change_key(b, ctx, std::move(req), true);
               });
}

}  // namespace sbx::api
