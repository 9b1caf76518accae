// WebSocket takeover: Beast's server settings, the 101 with our request id, a closing 1000.
#include "http/websocket_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <string>

namespace sbx::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;

asio::awaitable<WebSocketResult> run_websocket(beast::tcp_stream stream,
                                               const bhttp::request_header<>& upgrade,
                                               WebSocketTakeover takeover,
                                               const WebSocketOptions& options) {
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    // The WebSocket keeps its own deadlines; the TCP stream's would cut a quiet connection.
    stream.expires_never();
    WebSocket ws(std::move(stream));
    ws.read_message_max(takeover.max_message);
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = options.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [id = std::string(options.request_id)](websocket::response_type& res) {
            res.set(kRequestIdHeader, id);
        }));
    WebSocketResult result;
    bhttp::request<bhttp::empty_body> request{upgrade};
    if (auto [ec] = co_await ws.async_accept(request, token); ec) {
        result.end = WebSocketEnd::handshake_failed;
        co_return result;
    }
    try {
        co_await takeover.run(ws);
    } catch (...) {
        result.end = WebSocketEnd::run_failed;
        result.failure = std::current_exception();
    }
    if (ws.is_open()) {
        auto code = result.end == WebSocketEnd::closed ? websocket::close_code::normal
                                                       : websocket::close_code::internal_error;
        co_await ws.async_close(code, token);
    }
    co_return result;
}

}  // namespace sbx::http
