// pidfd wrappers: address a process by a pidfd, never by a reusable pid or /proc path.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <optional>
#include <string>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sys {

// Raw syscalls: glibc 2.36's <sys/pidfd.h> lacks extern "C" and its include guard collides with
// the kernel's <linux/pidfd.h>, so it is unusable from C++ here.
inline int raw_pidfd_open(pid_t pid, unsigned flags) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
inline int raw_pidfd_send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Opens a pidfd (O_CLOEXEC is implied by the kernel) for `pid`. Errors: Step::pidfd_open.
[[nodiscard]] inline Result<UniqueFd> open_pidfd(pid_t pid) {
    const int fd = raw_pidfd_open(pid, 0);
    if (fd < 0) return errno_error(Step::pidfd_open, std::to_string(pid));
    return UniqueFd{fd};
}

// Sends `sig` to the process behind `pidfd`. ESRCH (already exited) is not an error.
[[nodiscard]] inline Result<void> signal_pidfd(int pidfd, int sig) {
    if (raw_pidfd_send_signal(pidfd, sig) < 0 && errno != ESRCH) {
        return errno_error(Step::pidfd_signal, std::to_string(sig));
    }
    return {};
}

// The pid of the process behind `pidfd` in our pid namespace (fdinfo's "Pid:"), or nullopt
// if it has exited or cannot be read. Stable while the process lives and the pidfd is open.
[[nodiscard]] inline std::optional<pid_t> pid_of_pidfd(int pidfd) {
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(pidfd));
    for (std::string line; std::getline(info, line);) {
        if (line.starts_with("Pid:")) {
            try {
                const long pid = std::stol(line.substr(4));
                if (pid > 0) return static_cast<pid_t>(pid);
            } catch (const std::exception&) {
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace sbx::sys
