// Route table: (method, path template) → handler; 404 for an unknown path, 405 + Allow for a
// wrong method, 307 for a known path with a trailing slash.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/reply.h"
#include "http/request_context.h"
#include "http/route_template.h"

namespace sbx::http {

// Not thread-safe to modify; once built, dispatch() may run concurrently from any thread.
class Router {
   public:
    // Registers `handler` for `path_template` (see RouteTemplate: "/execute",
    // "/sessions/{id}/execute"; no query string). A GET route also answers HEAD, as Starlette
    // does (the server then sends headers only). Throws std::invalid_argument for a bad
    // template or a (method, template) registered twice.
    void add(boost::beast::http::verb method, std::string path_template, Handler handler);

    // Runs the matching handler, after setting ctx.route (the template) and ctx.params. When
    // several templates match, the most specific wins (literal segments over parameters; see
    // RouteTemplate::more_specific_than); a route for the request's method wins over a more
    // specific template without one, as Starlette's first full match does. Unknown path → 404
    // {"detail":"Not Found"}; known path, other method → 405 {"detail":"Method Not Allowed"}
    // with Allow (FastAPI's texts). A path that is unknown only by its trailing slash
    // ("/execute/") → 307 with Location: the path without it plus the query, empty body
    // (Starlette's redirect_slashes). The query string is ignored for matching. Exceptions
    // from handlers propagate to the caller.
    [[nodiscard]] boost::asio::awaitable<Reply> dispatch(RequestContext& ctx,
                                                         Request request) const;

    // The Allow header value for `path` ("GET, HEAD"): the methods of every template matching
    // it; empty when the path is unknown. A template itself (with "{id}") matches itself.
    [[nodiscard]] std::string allowed_methods(std::string_view path) const;

    // Every (method, template) registered, in registration order (HEAD is implied by GET).
    [[nodiscard]] std::vector<std::pair<boost::beast::http::verb, std::string>> routes() const;

    // The path part of a request target: origin-form "/execute?x=1" → "/execute"; absolute-form
    // "http://host:8000/health?x=1" → "/health" and "http://host" → "/" (routed by the path,
    // the authority ignored, as uvicorn does).
    [[nodiscard]] static std::string_view path_of(std::string_view target);

    // The query of a request target with its '?' ("?x=1"); empty when there is none.
    [[nodiscard]] static std::string_view query_of(std::string_view target);

   private:
    struct Route {
        boost::beast::http::verb method;
        RouteTemplate path;
        Handler handler;
    };
    struct Match {
        const Route* route = nullptr;
        PathParams params;
    };
    [[nodiscard]] Match find(std::string_view path, boost::beast::http::verb method) const;
    [[nodiscard]] bool known(std::string_view path) const;
    [[nodiscard]] std::optional<Response> slash_redirect(std::string_view target) const;

    std::vector<Route> routes_;  // registration order
};

}  // namespace sbx::http
