// Channel: framing of JSON messages and fds over SOCK_SEQPACKET.
#include "pool/channel.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>

#include "sys/eintr.h"

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

Result<std::pair<UniqueFd, UniqueFd>> seqpacket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        return sys::errno_error(Step::socket, "socketpair");
    }
    return std::pair{UniqueFd{fds[0]}, UniqueFd{fds[1]}};
}

Result<void> send_message(int fd, const boost::json::object& body, std::span<const int> fds,
                          int wait_ms) {
    const std::string text = boost::json::serialize(body);
    if (text.size() > kMaxMessageBytes || fds.size() > kMaxMessageFds) {
        return SysError{Step::sendmsg, EMSGSIZE, "message too large"};
    }
    iovec iov{const_cast<char*>(text.data()), text.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxMessageFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        auto n = sys::retry_eintr([&] { return ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); });
        if (n >= 0) return {};
        if (errno != EAGAIN) return sys::errno_error(Step::sendmsg);
        pollfd p{fd, POLLOUT, 0};
        if (sys::retry_eintr([&] { return ::poll(&p, 1, wait_ms); }) <= 0) {
            return SysError{Step::sendmsg, EAGAIN, "peer not reading"};
        }
    }
}

Result<std::optional<Message>> try_receive(int fd, Step step) {
    std::string buf(kMaxMessageBytes + 1, '\0');
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxMessageFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    auto n = sys::retry_eintr([&] { return ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); });
    if (n < 0) {
        if (errno == EAGAIN) return std::optional<Message>{};
        return sys::errno_error(step, "recvmsg");
    }
    Message out;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int received = -1;
            std::memcpy(&received, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            out.fds.emplace_back(received);
        }
    }
    if (n == 0 && out.fds.empty()) return SysError{step, 0, "eof"};
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || static_cast<std::size_t>(n) > kMaxMessageBytes) {
        return SysError{step, EMSGSIZE, "truncated message"};
    }
    boost::system::error_code ec;
    auto value = boost::json::parse(std::string_view(buf.data(), static_cast<std::size_t>(n)), ec);
    if (ec || !value.is_object()) return SysError{step, EPROTO, "malformed message"};
    out.body = std::move(value.as_object());
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
