// Writing a StreamingResponse: chunked framing, a deadline per write, the producer cancelled
// when the client goes away.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string_view>

#include "http/reply.h"

namespace sbx::http {

struct StreamOptions {
    unsigned version = 11;        // the request's: 1.1 → chunked; 1.0 → raw body, then close
    bool keep_alive = true;       // the request's wish; HTTP/1.0 streams always close
    bool head_only = false;       // HEAD: the head, no body, `produce` not called
    std::string_view request_id;  // set as X-Request-ID
    std::chrono::seconds write_timeout{30};  // each write (head, piece, last chunk)
};

enum class StreamEnd : std::uint8_t {
    complete,         // the body ended normally: the connection may serve another request
    client_gone,      // the client closed while the producer waited: it was cancelled
    write_failed,     // a write failed (reset, deadline): the producer saw it thrown
    producer_failed,  // the producer threw: the body was left unterminated
};

struct StreamResult {
    StreamEnd end = StreamEnd::complete;
    std::uint64_t bytes = 0;     // body bytes written (without chunk framing)
    std::exception_ptr failure;  // for producer_failed (and write_failed): what was thrown
    bool keep_alive = false;     // complete, and the connection may be reused
};

// Writes `reply` on `stream` (whose socket is also watched for the client going away).
// Never throws; the caller logs the result and ends the connection unless keep_alive.
[[nodiscard]] boost::asio::awaitable<StreamResult> write_streaming_response(
    boost::beast::tcp_stream& stream, StreamingResponse reply, const StreamOptions& options);

}  // namespace sbx::http
