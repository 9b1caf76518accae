// Route table lookup and the 404/405 answers.
#include "http/router.h"

#include <boost/beast/http/field.hpp>
#include <cctype>

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

void Router::add(bhttp::verb method, std::string path, Handler handler) {
    routes_[std::move(path)].push_back(Route{method, std::move(handler)});
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

const Handler* Router::find(std::string_view path, bhttp::verb method) const {
    auto it = routes_.find(path);
    if (it == routes_.end()) return nullptr;
    for (const Route& r : it->second) {
        if (r.method == method) return &r.handler;
    }
    if (method == bhttp::verb::head) return find(path, bhttp::verb::get);
    return nullptr;
}

std::string Router::allowed_methods(std::string_view path) const {
    auto it = routes_.find(path);
    if (it == routes_.end()) return {};
    std::string out;
    for (const Route& r : it->second) {
        if (!out.empty()) out += ", ";
        out += bhttp::to_string(r.method);
        if (r.method == bhttp::verb::get) out += ", HEAD";
    }
    return out;
}

std::optional<Response> Router::slash_redirect(std::string_view target) const {
    std::string_view path = path_of(target);
    if (path.size() < 2 || path.back() != '/') return std::nullopt;
    path.remove_suffix(1);
    if (!routes_.contains(path)) return std::nullopt;
    Response res{bhttp::status::temporary_redirect, 11};
    res.set(bhttp::field::location, std::string(path) + std::string(query_of(target)));
    res.prepare_payload();
    return res;
}

boost::asio::awaitable<Response> Router::dispatch(Request request) const {
    std::string_view path = path_of(request.target());
    if (const Handler* h = find(path, request.method()); h != nullptr) {
        co_return co_await (*h)(std::move(request));
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
