// Channel: a SOCK_SEQPACKET socket carrying one JSON object per datagram, with attached fds.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <span>
#include <vector>

#include "sys/error.h"
#include "sys/fd_util.h"
#include "sys/unique_fd.h"

namespace sbx::pool {

struct Message {
    boost::json::object body;
    std::vector<sys::UniqueFd> fds;  // received with SCM_RIGHTS, O_CLOEXEC
    [[nodiscard]] std::string_view type() const;
};

inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxMessageFds = 16;

// Sends one message; blocks (poll) at most `wait_ms` if the socket buffer is full.
// Thread-safe for concurrent senders: each datagram is atomic.
[[nodiscard]] sys::Result<void> send_message(int fd, const boost::json::object& body,
                                             std::span<const int> fds = {}, int wait_ms = 1000);

// Receives one message without blocking: nullopt = nothing queued (EAGAIN).
// A closed peer is reported as SysError{step, 0, "eof"}; see is_eof().
[[nodiscard]] sys::Result<std::optional<Message>> try_receive(int fd, sys::Step step);
[[nodiscard]] bool is_eof(const sys::SysError& e);

// The receiving side of a channel on an Asio executor. Not thread-safe: one reader at a time.
class Channel {
public:
    Channel(const boost::asio::any_io_executor& ex, sys::UniqueFd fd, sys::Step step);
    // Waits for the next message; EOF and malformed messages are errors (is_eof tells EOF).
    boost::asio::awaitable<sys::Result<Message>> receive();
    [[nodiscard]] sys::Result<void> send(const boost::json::object& body, std::span<const int> fds = {});
    [[nodiscard]] int native_handle() { return sd_.native_handle(); }
    void shutdown_write();
    void close();

private:
    boost::asio::posix::stream_descriptor sd_;
    sys::Step step_;
};

}  // namespace sbx::pool
