// Pipes, socket pairs and close-on-exec duplicates, each owned from the start.
#include "sys/fd_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace sbx::sys {

Result<Pipe> make_pipe(std::string_view what) {
    int p[2] = {-1, -1};
    if (::pipe2(p, O_CLOEXEC) != 0) return errno_error(Step::pipe, std::string(what));
    return Pipe{UniqueFd{p[0]}, UniqueFd{p[1]}};
}

Result<FdPair> seqpacket_pair(std::string_view what) {
    int sv[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        return errno_error(Step::socket, std::string(what.empty() ? "socketpair" : what));
    }
    return FdPair{UniqueFd{sv[0]}, UniqueFd{sv[1]}};
}

Result<UniqueFd> dup_cloexec(int fd, int floor) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, floor);
    if (copy < 0) return errno_error(Step::fcntl, "F_DUPFD_CLOEXEC");
    return UniqueFd{copy};
}

}  // namespace sbx::sys
