// Route table: (method, path) → handler; 404 for an unknown path, 405 + Allow for a wrong method.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace sbx::http {

// Not thread-safe to modify; once built, dispatch() may run concurrently from any thread.
class Router {
   public:
    // Registers `handler` for exact `path` (no query string). A GET route also answers HEAD, as
    // Starlette does (the server then sends headers only).
    void add(boost::beast::http::verb method, std::string path, Handler handler);

    // Runs the matching handler. Unknown path → 404 {"detail":"Not Found"}; known path, other
    // method → 405 {"detail":"Method Not Allowed"} with Allow (FastAPI's texts). A path that is
    // unknown only by its trailing slash ("/execute/") → 307 with Location: the path without it
    // plus the query, empty body (Starlette's redirect_slashes). The query string is ignored for
    // matching. Exceptions from handlers propagate to the caller.
    [[nodiscard]] boost::asio::awaitable<Response> dispatch(Request request) const;

    // The Allow header value for `path` ("GET, HEAD"), empty when the path is unknown.
    [[nodiscard]] std::string allowed_methods(std::string_view path) const;

    // The path part of a request target: origin-form "/execute?x=1" → "/execute"; absolute-form
    // "http://host:8000/health?x=1" → "/health" and "http://host" → "/" (routed by the path,
    // the authority ignored, as uvicorn does).
    [[nodiscard]] static std::string_view path_of(std::string_view target);

    // The query of a request target with its '?' ("?x=1"); empty when there is none.
    [[nodiscard]] static std::string_view query_of(std::string_view target);

   private:
    struct Route {
        boost::beast::http::verb method;
        Handler handler;
    };
    [[nodiscard]] const Handler* find(std::string_view path, boost::beast::http::verb method) const;
    [[nodiscard]] std::optional<Response> slash_redirect(std::string_view target) const;

    std::map<std::string, std::vector<Route>, std::less<>> routes_;
};

}  // namespace sbx::http
