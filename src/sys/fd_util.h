// Making fd pairs and copies: pipes, SEQPACKET socket pairs, close-on-exec duplicates.
#pragma once

#include <string_view>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sys {

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};
struct FdPair {
    UniqueFd first;
    UniqueFd second;
};

// pipe2(O_CLOEXEC). Errors: Step::pipe with `what` as detail.
[[nodiscard]] Result<Pipe> make_pipe(std::string_view what = {});
// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC). Errors: Step::socket.
[[nodiscard]] Result<FdPair> seqpacket_pair(std::string_view what = {});
// fcntl(F_DUPFD_CLOEXEC, floor): a close-on-exec copy numbered >= floor. Errors: Step::fcntl.
[[nodiscard]] Result<UniqueFd> dup_cloexec(int fd, int floor = 0);

}  // namespace sbx::sys
