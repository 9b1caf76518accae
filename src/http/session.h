// One HTTP connection: framing, deadlines, size limits, keep-alive, cancellation on disconnect.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>

#include "http/message.h"

namespace sbx::http {

// Shared by the server and all its sessions (sessions may outlive the Server object).
struct SessionShared {
    Handler handler;
    std::chrono::seconds read_timeout{30};  // headers + body of one request, and each write
    std::chrono::seconds idle_timeout{60};  // between requests on a keep-alive connection
    std::uint64_t max_body_bytes = 64ULL << 20;
    std::atomic<std::uint64_t> next_request_id{1};
    std::atomic<unsigned> open_sessions{0};  // bounded by kMaxSessions
};

// Connections served at once; beyond it new connections are closed at once (logged), so a
// flood of idle sockets cannot exhaust file descriptors needed by the runs.
inline constexpr unsigned kMaxSessions = 1000;

// Largest accepted request line + headers; beyond it the answer is 431.
inline constexpr std::uint32_t kHeaderLimit = 16 * 1024;

// Serves requests on `socket` until the client closes, a deadline passes, a framing error
// occurs or the request says Connection: close. Never throws for network errors.
boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket,
                                         std::shared_ptr<SessionShared> shared);

}  // namespace sbx::http
