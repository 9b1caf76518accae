// Spawner wire protocol: framing of requests/replies and fd passing on the SEQPACKET socket.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/spawner.h"
#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox::proto {

inline constexpr std::size_t kMaxPacket = 64 * 1024;

// One datagram with the fds attached to it. eof: the peer closed the socket.
struct Packet {
    std::string bytes;
    std::vector<sys::UniqueFd> fds;
    bool eof = false;
};

// Sends one datagram with `fds` attached (SCM_RIGHTS). Errors: Step::sendmsg.
[[nodiscard]] sys::Result<void> send_packet(int sock, std::string_view bytes,
                                            std::span<const int> fds = {});
// Receives one datagram and up to `max_fds` fds (made CLOEXEC). Errors: Step::recvmsg, and
// Step::spawner_protocol for a truncated datagram or control message.
[[nodiscard]] sys::Result<Packet> recv_packet(int sock, std::size_t max_fds);

// Request: every field of ZygoteSpec except the memfd, which travels as the attached fd.
[[nodiscard]] std::string encode_request(const ZygoteSpec& spec);
[[nodiscard]] sys::Result<ZygoteSpec> decode_request(std::string_view bytes);

// Reply: the zygote's host pid (fds attached: pidfd, control) or the failure.
struct Reply {
    pid_t pid = -1;
    std::optional<sys::SysError> failure;
};
[[nodiscard]] std::string encode_reply(const Reply& reply);
[[nodiscard]] sys::Result<Reply> decode_reply(std::string_view bytes);

}  // namespace sbx::sandbox::proto
