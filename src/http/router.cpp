// Route table lookup (most specific template first) and the 404/405/307 answers.
#include "http/router.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <cctype>
#include <stdexcept>

namespace sbx::http {

namespace bhttp = boost::beast::http;

namespace {

// "http://host:port/p?q" → "/p?q"; "http://host" → ""; an origin-form target unchanged.
std::string_view without_scheme_and_authority(std::string_view target) {
    if (target.empty() || target.front() == '/') return target;
    auto sep = target.find("://");
    if (sep == std::string_view::npos || sep == 0) return target;
    for (char c : target.substr(0, sep)) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) == 0 && c != '+' && c != '-' && c != '.') return target;
    }
    auto rest = target.substr(sep + 3);
    auto end = rest.find_first_of("/?#");
    return end == std::string_view::npos ? std::string_view{} : rest.substr(end);
}

}  // namespace

void Router::add(bhttp::verb method, std::string path_template, Handler handler) {
    RouteTemplate path(std::move(path_template));
    for (const Route& r : routes_) {
        if (r.method == method && r.path.text() == path.text()) {
            throw std::invalid_argument("route registered twice: " + path.text());
        }
    }
    routes_.push_back(Route{method, std::move(path), std::move(handler)});
}

std::string_view Router::path_of(std::string_view target) {
    target = without_scheme_and_authority(target);
    auto path = target.substr(0, target.find_first_of("?#"));
    return path.empty() ? std::string_view("/") : path;
}

std::string_view Router::query_of(std::string_view target) {
    target = without_scheme_and_authority(target);
    auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    auto query = target.substr(q);
    return query.substr(0, query.find('#'));
}

Router::Match Router::find(std::string_view path, bhttp::verb method) const {
    Match best;
    for (const Route& r : routes_) {
        if (r.method != method) continue;
        if (best.route != nullptr && !r.path.more_specific_than(best.route->path)) continue;
        if (auto params = r.path.match(path)) best = Match{&r, std::move(*params)};
    }
    if (best.route == nullptr && method == bhttp::verb::head) return find(path, bhttp::verb::get);
    return best;
}

bool Router::known(std::string_view path) const {
    return std::any_of(routes_.begin(), routes_.end(),
                       [path](const Route& r) { return r.path.match(path).has_value(); });
}

std::string Router::allowed_methods(std::string_view path) const {
    std::vector<bhttp::verb> methods;
    for (const Route& r : routes_) {
        if (std::find(methods.begin(), methods.end(), r.method) != methods.end()) continue;
        if (r.path.match(path)) methods.push_back(r.method);
    }
    std::string out;
    for (bhttp::verb m : methods) {
        if (!out.empty()) out += ", ";
        out += bhttp::to_string(m);
        if (m == bhttp::verb::get) out += ", HEAD";
    }
    return out;
}

std::vector<std::pair<bhttp::verb, std::string>> Router::routes() const {
    std::vector<std::pair<bhttp::verb, std::string>> out;
    out.reserve(routes_.size());
    for (const Route& r : routes_) out.emplace_back(r.method, r.path.text());
    return out;
}

std::optional<Response> Router::slash_redirect(std::string_view target) const {
    std::string_view path = path_of(target);
    if (path.size() < 2 || path.back() != '/') return std::nullopt;
    path.remove_suffix(1);
    if (!known(path)) return std::nullopt;
    Response res{bhttp::status::temporary_redirect, 11};
    res.set(bhttp::field::location, std::string(path) + std::string(query_of(target)));
    res.prepare_payload();
    return res;
}

boost::asio::awaitable<Reply> Router::dispatch(RequestContext& ctx, Request request) const {
    std::string_view path = path_of(request.target());
    if (auto match = find(path, request.method()); match.route != nullptr) {
        ctx.route = match.route->path.text();
        ctx.params = std::move(match.params);
        co_return co_await match.route->handler(ctx, std::move(request));
    }
    std::string allow = allowed_methods(path);
    if (allow.empty()) {
        if (auto redirect = slash_redirect(request.target())) co_return std::move(*redirect);
        co_return detail_response(bhttp::status::not_found, "Not Found");
    }
    Response res = detail_response(bhttp::status::method_not_allowed, "Method Not Allowed");
    res.set(bhttp::field::allow, allow);
    co_return res;
}

}  // namespace sbx::http
