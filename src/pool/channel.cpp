// Channel: framing of JSON messages and fds over SOCK_SEQPACKET.
#include "pool/channel.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "sys/eintr.h"
#include "sys/fd_passing.h"

namespace sbx::pool {
namespace asio = boost::asio;
using sys::Result;
using sys::Step;
using sys::SysError;
using sys::UniqueFd;

std::string_view Message::type() const {
    if (auto it = body.find("type"); it != body.end() && it->value().is_string()) {
        return it->value().get_string();
    }
    return {};
}

bool is_eof(const SysError& e) { return e.err == 0 && e.detail == "eof"; }

Result<void> send_message(int fd, const boost::json::object& body, std::span<const int> fds,
                          int wait_ms) {
    const std::string text = boost::json::serialize(body);
    if (text.size() > kMaxMessageBytes || fds.size() > kMaxMessageFds) {
        return SysError{Step::sendmsg, EMSGSIZE, "message too large"};
    }
    for (;;) {
        auto sent = sys::send_datagram(fd, text, fds, MSG_DONTWAIT);
        if (sent || sent.error().err != EAGAIN) return sent;
        pollfd p{fd, POLLOUT, 0};
        if (sys::retry_eintr([&] { return ::poll(&p, 1, wait_ms); }) <= 0) {
            return SysError{Step::sendmsg, EAGAIN, "peer not reading"};
        }
    }
}

Result<std::optional<Message>> try_receive(int fd, Step step) {
    auto got = sys::recv_datagram(fd, kMaxMessageBytes + 1, kMaxMessageFds, MSG_DONTWAIT);
    if (!got) return SysError{step, got.error().err, "recvmsg"};
    if (!*got) return std::optional<Message>{};
    sys::Datagram& d = **got;
    if (d.bytes.empty() && d.fds.empty()) return SysError{step, 0, "eof"};
    if (d.truncated || d.bytes.size() > kMaxMessageBytes) return SysError{step, EMSGSIZE, "truncated message"};
    boost::system::error_code ec;
    auto value = boost::json::parse(d.bytes, ec);
    if (ec || !value.is_object()) return SysError{step, EPROTO, "malformed message"};
    Message out;
    out.body = std::move(value.as_object());
    out.fds = std::move(d.fds);
    return std::optional<Message>{std::move(out)};
}

Channel::Channel(const asio::any_io_executor& ex, UniqueFd fd, Step step)
    : sd_(ex, fd.release()), step_(step) {}

asio::awaitable<Result<Message>> Channel::receive() {
    for (;;) {
        auto got = try_receive(sd_.native_handle(), step_);
        if (!got) co_return got.error();
        if (*got) co_return std::move(**got);
        auto [ec] = co_await sd_.async_wait(asio::posix::stream_descriptor::wait_read,
                                             asio::as_tuple(asio::use_awaitable));
        if (ec) co_return SysError{step_, ECANCELED, ec.message()};
    }
}

Result<void> Channel::send(const boost::json::object& body, std::span<const int> fds) {
    return send_message(sd_.native_handle(), body, fds);
}

void Channel::shutdown_write() { ::shutdown(sd_.native_handle(), SHUT_WR); }

void Channel::close() {
    boost::system::error_code ec;
    sd_.close(ec);
}

}  // namespace sbx::pool
