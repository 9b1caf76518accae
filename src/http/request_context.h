// RequestContext: what the server knows of a request beyond its message, and what the handler
// reports back for the request's log line.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <any>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sbx::http {

// The authenticated caller. Empty until an auth layer fills it (API keys); handlers that need
// a caller check ctx.identity.
struct Identity {
    std::string key_id;  // the API key's id, never the key itself
    std::string name;    // who holds it
    std::string role;    // what it may do ("admin", "user", ...); "anonymous" without a key
    // The auth layer's whole record of the caller (api::caller() reads it as auth::Identity,
    // with its limits); opaque to the HTTP layer.
    std::any principal;
};

// key=value pairs a handler adds to its request's one log line (verdict, run id, ...), in the
// order first set; setting a key again replaces its value.
class LogFields {
   public:
    void set(std::string_view key, std::string value);
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const noexcept {
        return items_;
    }

   private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// Path parameters of the matched route template, in template order ("id" → "abc").
using PathParams = std::vector<std::pair<std::string, std::string>>;

// One per request, created by the session before the handler runs and alive until the request
// is logged (after a streamed body or a WebSocket has ended). Handlers run on the session's
// strand: no locking needed.
struct RequestContext {
    std::string id;                               // assigned by the server; echoed as X-Request-ID
    boost::asio::ip::tcp::endpoint peer;          // the client's address (the proxy's, behind one)
    std::chrono::steady_clock::time_point start;  // head complete: for durations
    std::chrono::system_clock::time_point start_time;  // the same instant, for timestamps
    std::string route;  // the template that matched ("/sessions/{id}/execute"); empty if none
    PathParams params;  // its parameters, percent-decoded
    std::optional<Identity> identity;  // the caller, once authenticated
    LogFields log;                     // fields for the request's log line
    // False: no request line for this request (the handler summarises a flood of refusals,
    // e.g. invalid API keys, in lines of its own).
    bool log_line = true;

    // The value of path parameter `name`; empty when the route has none of that name.
    [[nodiscard]] std::string_view param(std::string_view name) const noexcept;
};

}  // namespace sbx::http
