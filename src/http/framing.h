// Request framing checks stricter than Beast's parser (RFC 9112), against request smuggling.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sbx::http {

// Largest request line + header fields; beyond it the answer is 431.
inline constexpr std::size_t kHeaderLimit = 16 * 1024;
// Largest request line (method, target, version); beyond it the answer is 414.
inline constexpr std::size_t kRequestLineLimit = 8 * 1024;

enum class HeadProblem : std::uint8_t {
    none,
    bare_lf,                // a line ending in LF without CR (400)
    obs_fold,               // a header line starting with SP/HTAB: obsolete line folding (400)
    request_line_too_long,  // over kRequestLineLimit (414)
    head_too_long,          // over kHeaderLimit (431)
};

// Watches a request head arrive, before Beast parses it: Beast accepts obs-fold (joining the
// lines) and has one limit for the whole head, while a proxy in front of us may read folded
// lines differently, and a long target deserves 414. Incremental: each byte is examined once,
// so a head trickling in byte by byte costs linear time. Not thread-safe (one per session).
class HeadScanner {
   public:
    struct Result {
        bool complete = false;  // the empty line ending the head has arrived
        HeadProblem problem = HeadProblem::none;
    };

    // `received`: every byte received for this request so far, from the head's first byte (the
    // same start on each call, growing). A problem is final: stop reading and answer it.
    [[nodiscard]] Result scan(std::string_view received);

   private:
    std::size_t line_start_ = 0;  // where the line being received starts
    std::size_t scanned_ = 0;     // bytes of that line already searched for LF
    bool request_line_done_ = false;
};

// Why a parsed request head cannot be framed safely, or nullopt. Refused (400 and close, as
// RFC 9112 §6.3 requires for the first two): a Transfer-Encoding other than exactly one
// "chunked" (no other coding: we decode none; no list; no second field), Transfer-Encoding
// with Content-Length, Transfer-Encoding in an HTTP/1.0 request, more than one Content-Length
// field or a Content-Length list ("5, 5"). The text is for the client and the log.
[[nodiscard]] std::optional<std::string_view> framing_problem(
    const boost::beast::http::request_header<>& head);

}  // namespace sbx::http
