// SlirpLink: one run's way out — a slirp4netns process attached to the run's network namespace.
//
// slirp4netns (Debian's, as in rootless Podman) creates tap0 in the namespace (10.0.2.100/24,
// gateway 10.0.2.2, DNS 10.0.2.3), and turns the run's packets into ordinary sockets of its
// own on the host. It runs as root with a group id of its own (the firewall matches it) and
// no supplementary groups, sandboxes itself (--enable-sandbox: private mount namespace, every
// capability but NET_BIND_SERVICE dropped; --enable-seccomp), cannot reach the host's
// loopback through the gateway (--disable-host-loopback), and exits when the server closes
// its exit pipe or dies.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "network/gid_pool.h"
#include "network/link_reaper.h"
#include "sys/child_process.h"
#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::network {

struct SlirpOptions {
    std::filesystem::path program = "/usr/bin/slirp4netns";
    unsigned mtu = 65520;  // slirp's maximum: fewer, larger packets through the user-mode stack
};

class SlirpLink {
public:
    SlirpLink() = default;
    SlirpLink(SlirpLink&&) noexcept = default;
    SlirpLink& operator=(SlirpLink&&) = delete;
    SlirpLink(const SlirpLink&) = delete;
    SlirpLink& operator=(const SlirpLink&) = delete;
    // SIGKILLs the process and hands it with its gid to the reaper (the gid is free once the
    // process is reaped); without a reaper, kills and reaps here.
    ~SlirpLink();

    // Starts slirp4netns for the network namespace of the process behind `run_pidfd` (which
    // must stay alive until ready). Returns at once; ready_fd() then reads one byte once tap0
    // is configured, or EOF if slirp4netns failed. Errors: Step::fork / setns / pipe.
    // Safe in a multi-threaded process: the child makes raw system calls only, then execs.
    [[nodiscard]] static sys::Result<SlirpLink> start(const SlirpOptions& options, int run_pidfd,
                                                      GidLease gid,
                                                      std::shared_ptr<LinkReaper> reaper = nullptr);

    [[nodiscard]] int ready_fd() const noexcept { return ready_read_.get(); }
    // After ready_fd() gave EOF: reaps the process and says which step failed.
    [[nodiscard]] std::string failure();
    // The process has not exited (its pidfd is not readable).
    [[nodiscard]] bool alive() const;
    [[nodiscard]] pid_t pid() const noexcept { return process_.pid(); }

private:
    std::shared_ptr<LinkReaper> reaper_;
    GidLease gid_;               // destroyed after the process: the gid is free once it is gone
    sys::UniqueFd ready_read_;
    sys::UniqueFd exit_write_;   // closing it tells slirp4netns to exit
    sys::ChildProcess process_;  // destroyed first
};

}  // namespace sbx::network
