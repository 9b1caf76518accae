// CORS exactly like Starlette's CORSMiddleware(allow_origins=ALLOWED_ORIGINS, allow_methods=["*"],
// allow_headers=["*"], allow_credentials=True), the original service's settings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/message.h"

namespace sbx::api {

// What CORS needs from a request, taken before the request is handed to a handler.
struct CorsRequest {
    std::optional<std::string> origin;
    bool has_cookie = false;
};

class Cors {
   public:
    // "*" in the list allows every origin.
    explicit Cors(std::vector<std::string> allowed_origins);

    // A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here:
    // 200 text/plain "OK", or 400 "Disallowed CORS origin" for an origin not allowed.
    [[nodiscard]] std::optional<http::Response> preflight(const http::Request& request) const;

    [[nodiscard]] static CorsRequest inspect(const http::Request& request);

    // Adds the simple-response headers when the request carried an Origin (to a whole
    // response or a streamed one's head).
    void decorate(const CorsRequest& request,
                  boost::beast::http::response_header<>& response) const;

    // For a WebSocket upgrade, which browsers do not subject to CORS: true when the request has
    // no Origin (not a browser) or an allowed one.
    [[nodiscard]] bool origin_allowed(const CorsRequest& request) const;

   private:
    [[nodiscard]] bool allowed(std::string_view origin) const;

    std::vector<std::string> origins_;
    bool allow_all_ = false;
};

}  // namespace sbx::api
