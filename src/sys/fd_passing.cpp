// send_datagram / recv_datagram: the msghdr and cmsg plumbing of fd passing, in one place.
#include "sys/fd_passing.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "sys/eintr.h"

namespace sbx::sys {

Result<void> send_datagram(int sock, std::string_view bytes, std::span<const int> fds, int flags) {
    if (fds.size() > kMaxPassedFds) return SysError{Step::sendmsg, E2BIG, "too many fds"};
    iovec iov{const_cast<char*>(bytes.data()), bytes.size()};  // NOLINT: sendmsg does not write
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxPassedFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    if (retry_eintr([&] { return ::sendmsg(sock, &msg, flags | MSG_NOSIGNAL); }) < 0) {
        return errno_error(Step::sendmsg);
    }
    return {};
}

Result<std::optional<Datagram>> recv_datagram(int sock, std::size_t max_bytes, std::size_t max_fds,
                                              int flags) {
    Datagram d;
    d.bytes.resize(max_bytes);
    iovec iov{d.bytes.data(), d.bytes.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxPassedFds)> control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * std::min(max_fds, kMaxPassedFds));
    const auto n = retry_eintr([&] { return ::recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC); });
    if (n < 0) {
        if (errno == EAGAIN) return std::optional<Datagram>{};
        return errno_error(Step::recvmsg);
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            d.fds.emplace_back(fd);
        }
    }
    d.truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    d.bytes.resize(static_cast<std::size_t>(n));
    return std::optional<Datagram>{std::move(d)};
}

}  // namespace sbx::sys
