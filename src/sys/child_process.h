// ChildProcess: owns a direct child (pid + pidfd); its destructor SIGKILLs and reaps it.
#pragma once

#include <poll.h>
#include <sys/wait.h>

#include <chrono>
#include <utility>

#include "sys/eintr.h"
#include "sys/pidfd.h"
#include "sys/unique_fd.h"

namespace sbx::sys {

// Thread-safety: none (one owner). Only the parent of `pid` may own a ChildProcess.
class ChildProcess {
public:
    ChildProcess() noexcept = default;
    ChildProcess(pid_t pid, UniqueFd pidfd) noexcept : pid_(pid), pidfd_(std::move(pidfd)) {}
    ChildProcess(ChildProcess&& o) noexcept
        : pid_(std::exchange(o.pid_, -1)), pidfd_(std::move(o.pidfd_)) {}
    ChildProcess& operator=(ChildProcess&& o) noexcept {
        if (this != &o) {
            kill_and_reap();
            pid_ = std::exchange(o.pid_, -1);
            pidfd_ = std::move(o.pidfd_);
        }
        return *this;
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() { kill_and_reap(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
    [[nodiscard]] bool running() const noexcept { return pid_ > 0; }

    // Waits up to `timeout` for the child to exit; returns its wait status, or -1 on timeout.
    int wait_for(std::chrono::milliseconds timeout) noexcept {
        if (pid_ <= 0) return -1;
        pollfd p{pidfd_.get(), POLLIN, 0};
        if (retry_eintr([&] { return ::poll(&p, 1, static_cast<int>(timeout.count())); }) <= 0) {
            return -1;
        }
        return reap();
    }

    // Gives up ownership without killing: the caller reaps the pid some other way.
    [[nodiscard]] UniqueFd release() noexcept {
        pid_ = -1;
        return std::move(pidfd_);
    }

    // SIGKILL (through the pidfd: no pid reuse race) and reap; no-op when already reaped.
    void kill_and_reap() noexcept {
        if (pid_ <= 0) return;
        (void)raw_pidfd_send_signal(pidfd_.get(), SIGKILL);
        (void)reap();
    }

private:
    int reap() noexcept {
        int status = 0;
        (void)retry_eintr([&] { return ::waitpid(pid_, &status, 0); });
        pid_ = -1;
        pidfd_.reset();
        return status;
    }

    pid_t pid_ = -1;
    UniqueFd pidfd_;
};

}  // namespace sbx::sys
