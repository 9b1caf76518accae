// One datagram over a unix socket with file descriptors attached (SCM_RIGHTS), both ways.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sys {

inline constexpr std::size_t kMaxPassedFds = 16;

struct Datagram {
    std::string bytes;
    std::vector<UniqueFd> fds;  // received O_CLOEXEC
    bool truncated = false;     // the datagram or its fds did not fit (MSG_TRUNC / MSG_CTRUNC)
};

// sendmsg(2) of `bytes` with `fds` attached (at most kMaxPassedFds); `flags` are sendmsg's
// (MSG_NOSIGNAL is always added). Errors: Step::sendmsg with errno (EAGAIN with MSG_DONTWAIT).
[[nodiscard]] Result<void> send_datagram(int sock, std::string_view bytes, std::span<const int> fds,
                                         int flags = 0);

// recvmsg(2) of one datagram of up to `max_bytes` and `max_fds` fds. nullopt: EAGAIN (with
// MSG_DONTWAIT in `flags`). An empty datagram without fds is the peer's EOF on SOCK_SEQPACKET.
// Errors: Step::recvmsg with errno.
[[nodiscard]] Result<std::optional<Datagram>> recv_datagram(int sock, std::size_t max_bytes,
                                                            std::size_t max_fds, int flags = 0);

}  // namespace sbx::sys
