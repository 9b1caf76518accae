// Parsing and decoding of /execute bodies, large ones on a small pool off the HTTP I/O threads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "config/config.h"
#include "sandbox/run_types.h"

namespace sbx::api {

// Bodies of at least this many bytes are parsed on the pool: a 63 MB body takes ~100-200 ms
// of JSON parsing and base64 decoding, which on an I/O thread delays every other connection
// that thread serves (/health among them). Smaller ones cost less than the hand-over.
inline constexpr std::size_t kOffloadBodyBytes = std::size_t{1} << 20;
inline constexpr int kParserNice = 10;

// Owns the pool (`threads` threads; joined by the destructor). parse() may be called from
// any thread, concurrently.
class BodyParser {
   public:
    // The pool's threads run at a lower priority (nice +kParserNice): when CPU is short, the
    // I/O threads (small requests, /health) go first and large bodies wait.
    explicit BodyParser(unsigned threads);
    ~BodyParser() { pool_.join(); }
    BodyParser(const BodyParser&) = delete;
    BodyParser& operator=(const BodyParser&) = delete;

    // parse_execute_body(content_type, body, cfg, request_id): inline for a small body; for
    // one of kOffloadBodyBytes or more on the pool, resuming the caller on its own executor
    // when done. `cfg` must outlive the call. A cancelled caller still waits for the parse
    // (bounded by MAX_BODY_SIZE), whose result is then dropped.
    [[nodiscard]] boost::asio::awaitable<ApiResult<sandbox::RunRequest>> parse(
        std::string content_type, std::string body, const config::Config& cfg,
        std::string request_id);

   private:
    boost::asio::thread_pool pool_;
};

}  // namespace sbx::api
