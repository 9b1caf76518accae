// SlirpLink: one run's way out — a slirp4netns process attached to the run's network namespace.
//
// slirp4netns (Debian's, as in rootless Podman) creates tap0 in the namespace (10.0.2.100/24,
// gateway 10.0.2.2, DNS 10.0.2.3), and turns the run's packets into ordinary sockets of its
// own on the host. It runs as root with a group id of its own (the firewall matches it) and
// no supplementary groups, sandboxes itself (--enable-sandbox: private mount namespace, every
// capability but NET_BIND_SERVICE dropped; --enable-seccomp), cannot reach the host's
// loopback through the gateway (--disable-host-loopback), and exits when the server closes
// its exit pipe or dies. It runs in the run's cgroup (under the run's CPU, memory and pids
// limits, killed with it) and in a mount namespace of its own (see slirp_link.cpp).
#pragma once

#include <filesystem>
#include <memory>
#include <span>
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

// child: async-signal-safe. Moves the calling process into the cgroups whose cgroup.procs
// files `procs_fds` are open for writing (it writes "0", the writer itself, to each; v1: one
// per hierarchy, v2: one). False at the first failed write (errno tells why).
[[nodiscard]] bool child_join_cgroups(std::span<const int> procs_fds) noexcept;

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

    // Starts slirp4netns for the network namespace `run_netns` (an nsfs fd; a pidfd works too
    // where this process may ptrace its process, as in the tests), inside the cgroups whose
    // cgroup.procs files `run_groups` are open for writing (the run's; the caller may close
    // them once this returns). Returns
    // at once; ready_fd() then reads one byte once tap0 is configured, or EOF if slirp4netns
    // failed (failure() says why). Errors: Step::fork / pipe.
    // Safe in a multi-threaded process: the child makes raw system calls only, then execs.
    [[nodiscard]] static sys::Result<SlirpLink> start(const SlirpOptions& options, int run_netns,
                                                      GidLease gid,
                                                      std::shared_ptr<LinkReaper> reaper = nullptr,
                                                      std::span<const int> run_groups = {});

    [[nodiscard]] int ready_fd() const noexcept { return ready_read_.get(); }
    // After ready_fd() gave EOF: reaps the process and says which step failed.
    [[nodiscard]] std::string failure();
    // The process has not exited (its pidfd is not readable).
    [[nodiscard]] bool alive() const;
    [[nodiscard]] pid_t pid() const noexcept { return process_.pid(); }
    // Polls readable once the process has exited (for waiting without blocking).
    [[nodiscard]] int pidfd() const noexcept { return process_.pidfd(); }

private:
    std::shared_ptr<LinkReaper> reaper_;
    GidLease gid_;               // destroyed after the process: the gid is free once it is gone
    sys::UniqueFd ready_read_;
    sys::UniqueFd exit_write_;   // closing it tells slirp4netns to exit
    sys::ChildProcess process_;  // destroyed first
};

}  // namespace sbx::network
