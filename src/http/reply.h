// What a handler answers: a whole response, a body streamed as it is produced, or a WebSocket
// taking over the connection. The server writes each (framing, deadlines, cancellation).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream_fwd.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <variant>

#include "http/message.h"
#include "http/request_context.h"

namespace sbx::http {

// Writes a streamed body piece by piece. Each write completes once its piece is with the
// kernel, so a slow reader holds the producer back (the server buffers no more than the piece
// being written, beyond the socket buffers), and a write that cannot finish within
// HTTP_READ_TIMEOUT fails. Failures (deadline, connection reset) are thrown as
// boost::system::system_error; when the client goes away while the producer awaits something
// else, the producer is cancelled (its awaits throw operation_aborted). An interface, so that
// handlers can be tested without a socket.
class BodyWriter {
   public:
    virtual ~BodyWriter() = default;
    // An empty `data` writes nothing.
    virtual boost::asio::awaitable<void> write(std::string_view data) = 0;
    [[nodiscard]] virtual std::uint64_t bytes_written() const noexcept = 0;
};

// Status and header fields, then a body written as `produce` goes. The server frames it with
// chunked transfer coding for HTTP/1.1 (any Content-Length set here is removed) and by closing
// the connection for HTTP/1.0; a HEAD request gets the head only (`produce` is not called).
// When `produce` returns, the body ends (and the connection may serve the next request); an
// exception from it after the head was sent ends the connection without the last chunk, so
// the client sees a truncated body rather than a complete one.
struct StreamingResponse {
    boost::beast::http::response_header<> head;  // 200, HTTP/1.1 unless set
    std::function<boost::asio::awaitable<void>(BodyWriter&)> produce;
};

// The connection after an accepted WebSocket upgrade (Beast's stream: async_read, async_write,
// text(), async_close with 1000, 1008, ...).
using WebSocket = boost::beast::websocket::stream<boost::beast::tcp_stream>;

// Largest WebSocket message read unless the takeover says otherwise; beyond it the server
// closes with 1009 (message too big).
inline constexpr std::size_t kWebSocketMessageLimit = std::size_t{1} << 20;

// Accept the request's WebSocket upgrade (101) and hand the connection to `run`; the session
// ends when `run` returns (the server closes the WebSocket with 1000 if `run` did not). A
// request that is not a valid upgrade gets 426 instead. The server's WebSocket settings:
// messages up to `max_message` bytes, pings when idle for HTTP_IDLE_TIMEOUT / 2 and close
// when the peer does not answer; `run` is cancelled when the server stops the session.
struct WebSocketTakeover {
    std::function<boost::asio::awaitable<void>(WebSocket&)> run;
    std::size_t max_message = kWebSocketMessageLimit;
};

using Reply = std::variant<Response, StreamingResponse, WebSocketTakeover>;

// What the server calls for every complete request. It never sees the socket (but a
// WebSocketTakeover's `run` gets the upgraded connection). `ctx` lives until the reply has been
// written (or the WebSocket ended). Cancellation of the awaiting coroutine (terminal) means the
// client went away; the handler should stop. An exception becomes 500 in one place, the server.
using Handler = std::function<boost::asio::awaitable<Reply>(RequestContext&, Request)>;

}  // namespace sbx::http
