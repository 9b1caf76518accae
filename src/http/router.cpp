// Route table lookup and the 404/405 answers.
#include "http/router.h"

#include <boost/beast/http/field.hpp>

namespace sbx::http {

namespace bhttp = boost::beast::http;

void Router::add(bhttp::verb method, std::string path, Handler handler) {
    routes_[std::move(path)].push_back(Route{method, std::move(handler)});
}

std::string_view Router::path_of(std::string_view target) {
    auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
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

boost::asio::awaitable<Response> Router::dispatch(Request request) const {
    std::string_view path = path_of(request.target());
    if (const Handler* h = find(path, request.method()); h != nullptr) {
        co_return co_await (*h)(std::move(request));
    }
    std::string allow = allowed_methods(path);
    if (allow.empty()) co_return detail_response(bhttp::status::not_found, "Not Found");
    Response res = detail_response(bhttp::status::method_not_allowed, "Method Not Allowed");
    res.set(bhttp::field::allow, allow);
    co_return res;
}

}  // namespace sbx::http
