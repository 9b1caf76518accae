// Starlette CORSMiddleware behaviour, header by header (starlette/middleware/cors.py).
#include "api/cors.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <string>

namespace sbx::api {

namespace bhttp = boost::beast::http;

namespace {

// allow_methods=["*"] expands to Starlette's ALL_METHODS, in this order.
constexpr std::string_view kAllMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
constexpr std::string_view kMaxAge = "600";

http::Response plain_text(bhttp::status status, std::string text) {
    http::Response res{status, 11};
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::move(text);
    res.prepare_payload();
    return res;
}

}  // namespace

Cors::Cors(std::vector<std::string> allowed_origins) : origins_(std::move(allowed_origins)) {
    allow_all_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool Cors::allowed(std::string_view origin) const {
    return allow_all_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

CorsRequest Cors::inspect(const http::Request& request) {
    CorsRequest out;
    if (auto it = request.find(bhttp::field::origin); it != request.end()) {
        out.origin = std::string(it->value());
    }
    out.has_cookie = request.find(bhttp::field::cookie) != request.end();
    return out;
}

std::optional<http::Response> Cors::preflight(const http::Request& request) const {
    auto origin = request.find(bhttp::field::origin);
    auto method = request.find(bhttp::field::access_control_request_method);
    if (request.method() != bhttp::verb::options || origin == request.end() ||
        method == request.end()) {
        return std::nullopt;
    }
    // allow_credentials=True makes Starlette echo the origin instead of "*" (with Vary).
    bool ok = allowed(origin->value());
    http::Response res = plain_text(ok ? bhttp::status::ok : bhttp::status::bad_request,
                                    ok ? "OK" : "Disallowed CORS origin");
    res.set(bhttp::field::vary, "Origin");
    res.set(bhttp::field::access_control_allow_methods, kAllMethods);
    res.set(bhttp::field::access_control_max_age, kMaxAge);
    res.set(bhttp::field::access_control_allow_credentials, "true");
    if (ok) res.set(bhttp::field::access_control_allow_origin, origin->value());
    if (auto h = request.find(bhttp::field::access_control_request_headers); h != request.end()) {
        res.set(bhttp::field::access_control_allow_headers, h->value());
    }
    return res;
}

bool Cors::origin_allowed(const CorsRequest& request) const {
    return !request.origin || allowed(*request.origin);
}

void Cors::decorate(const CorsRequest& request, bhttp::response_header<>& response) const {
    if (!request.origin) return;
    if (allow_all_) response.set(bhttp::field::access_control_allow_origin, "*");
    response.set(bhttp::field::access_control_allow_credentials, "true");
    // Credentials (a cookie) with allow-all, or an explicitly allowed origin: echo the origin.
    if ((allow_all_ && request.has_cookie) || (!allow_all_ && allowed(*request.origin))) {
        response.set(bhttp::field::access_control_allow_origin, *request.origin);
        // Added to a Vary the route set (the /ui assets vary by Accept-Encoding), not over it.
        std::string vary(response[bhttp::field::vary]);
        response.set(bhttp::field::vary, vary.empty() ? "Origin" : vary + ", Origin");
    }
}

}  // namespace sbx::api
