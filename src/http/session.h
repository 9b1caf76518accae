// One HTTP connection: framing, deadlines, size limits, keep-alive, cancellation on disconnect.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "http/body_budget.h"
#include "http/connection_table.h"
#include "http/message.h"
#include "http/reply.h"
#include "log/throttle.h"

namespace sbx::http {

// Shared by the server and all its sessions (sessions may outlive the Server object).
struct SessionShared {
    SessionShared(std::size_t max_connections, std::uint64_t max_buffered_body_bytes)
        : connections(max_connections), bodies(max_buffered_body_bytes, kBodyStalledAfter) {}

    // A body still arriving that got no byte for this long may be dropped for another's room.
    static constexpr std::chrono::seconds kBodyStalledAfter{2};

    Handler handler;
    std::chrono::seconds header_timeout{10};  // request line + headers, from accept or 1st byte
    std::chrono::seconds read_timeout{30};    // the body after its head, and each write
    std::chrono::seconds idle_timeout{60};    // between requests on a keep-alive connection
    std::uint64_t max_body_bytes = 64ULL << 20;
    std::atomic<std::uint64_t> next_request_id{1};
    ConnectionTable connections;  // MAX_CONNECTIONS; the server admits, sessions update
    BodyBudget bodies;            // MAX_BUFFERED_BODY_BYTES; sessions charge and release
    log::Throttle bodies_dropped{std::chrono::seconds(1)};  // one log line per second at most
    log::Throttle bodies_refused{std::chrono::seconds(1)};
};

// A connection admitted to shared->connections: call start() once, on the socket's strand,
// to serve requests until the client closes, a deadline passes, a framing error occurs, the
// request says Connection: close or the table evicts it (while it waits for a request head).
// Removes itself from the table when it ends. Never throws for network errors.
class Session;
struct SessionStart {
    std::shared_ptr<Session> session;
    boost::asio::ip::tcp::socket::executor_type strand;  // the session's; run it there
    ConnectionTable::Admission admission;
};

// Admits `socket` to the table (evicting the longest waiter if full). Refused: session is null
// and the caller closes the socket.
[[nodiscard]] SessionStart admit_session(boost::asio::ip::tcp::socket socket,
                                         std::shared_ptr<SessionShared> shared);

// Serves the admitted session (see above) on its socket's strand.
boost::asio::awaitable<void> run_session(std::shared_ptr<Session> session);

}  // namespace sbx::http
