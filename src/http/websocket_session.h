// Accepting a WebSocket upgrade and handing the connection to the handler's takeover.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string_view>

#include "http/reply.h"

namespace sbx::http {

struct WebSocketOptions {
    std::string_view request_id;            // set as X-Request-ID on the 101 answer
    std::chrono::seconds idle_timeout{60};  // ping after half of it idle, close after all of it
};

enum class WebSocketEnd : std::uint8_t {
    closed,            // `run` returned (the server then closed with 1000 if still open)
    handshake_failed,  // the 101 could not be written, or the request was not an upgrade
    run_failed,        // `run` threw (the connection is closed)
};

struct WebSocketResult {
    WebSocketEnd end = WebSocketEnd::closed;
    std::exception_ptr failure;  // for run_failed
};

// Takes `stream` over: answers `upgrade` (a request for which is_upgrade() held) with 101,
// then awaits takeover.run. Never throws.
[[nodiscard]] boost::asio::awaitable<WebSocketResult> run_websocket(
    boost::beast::tcp_stream stream, const boost::beast::http::request_header<>& upgrade,
    WebSocketTakeover takeover, const WebSocketOptions& options);

}  // namespace sbx::http
