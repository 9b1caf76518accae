// Spawner: the single-threaded process that clones zygotes into their base sandbox.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "sys/child_process.h"
#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox {

// What a zygote is started with (docs/ARCHITECTURE.md, "Zygote start").
struct ZygoteSpec {
    std::string mode = "zygote";          // PYSANDBOX_MODE: "zygote" | "cold"
    std::vector<std::string> preload;     // PYSANDBOX_PRELOAD, joined with ','
    std::filesystem::path python = "/usr/bin/python3";  // host path; must lie under /usr
    std::filesystem::path runtime_dir;    // host dir bound read-only on /opt/pysandbox
    std::string script = "zygote.py";     // file in runtime_dir that python runs
    // Host uid of the zygote (ns uid 0) and owner of its user namespace; ns uids 1000 ...
    // 999 + uid_count (the runs, one each) map to uid_base + 1 ... + uid_count. Owned by
    // uid_base, not root: every run's per-user kernel quotas are charged up to this uid.
    std::uint32_t uid_base = 1000000;
    std::uint32_t uid_count = 1;
    // "name=value" written to /proc/sys/user/<name> in the zygote's user namespace: limits
    // per uid of it (pool::user_namespace_limits). A name this kernel lacks is skipped.
    std::vector<std::string> user_limits;
    std::uint64_t tmp_bytes = 64ULL << 20;  // size of the zygote's writable /tmp tmpfs
    sys::UniqueFd seccomp_memfd;          // fd 4 of the zygote; invalid = an empty memfd
    std::vector<std::string> extra_env;   // "NAME=value" added after the documented ones
    std::string resolv_conf;              // /etc/resolv.conf of the sandbox (egress: slirp's DNS)
    int fault_injection = -1;  // tests only: the N-th set-up call in the child fails with EIO
};

// A started zygote: pidfd (poll for exit, signal through it), the server's end of the control
// socket (fd 3 inside), and its pid as seen from the host (logs only; use the pidfd).
// The spawner (its parent) reaps it; the server never waits on the pid.
struct ZygoteHandle {
    sys::UniqueFd pidfd;
    sys::UniqueFd control;
    pid_t pid = -1;
};

struct SpawnerOptions {
    // Empty host directory used as the mount point of a new root inside each zygote's private
    // mount namespace (nothing is ever written to it on the host). Created if missing.
    std::filesystem::path staging_dir = "/run/pysandbox-stage";
};

// The server's handle on the spawner process. Thread-safe: spawn_zygote() may be called from
// several threads (one request at a time on the socket). Blocking: call it off the I/O threads.
class SpawnerClient {
public:
    SpawnerClient(sys::UniqueFd socket, sys::ChildProcess process) noexcept;
    SpawnerClient(SpawnerClient&&) noexcept;
    SpawnerClient& operator=(SpawnerClient&&) = delete;
    SpawnerClient(const SpawnerClient&) = delete;
    SpawnerClient& operator=(const SpawnerClient&) = delete;
    // Closes the socket (the spawner exits, its zygotes die with it) and reaps the spawner.
    ~SpawnerClient();

    // Clones a zygote and execs python in its base sandbox. Errors: the failing step and errno
    // inside the new sandbox (e.g. "pivot_root: EPERM (...) [/run/pysandbox-stage]"), or
    // Step::spawner_protocol when the spawner is gone or gives no reply within 10 s (the client
    // then closes its socket for good: every later call fails with ENOTCONN).
    [[nodiscard]] sys::Result<ZygoteHandle> spawn_zygote(ZygoteSpec spec);

    [[nodiscard]] pid_t spawner_pid() const noexcept { return process_.pid(); }
    [[nodiscard]] int spawner_pidfd() const noexcept { return process_.pidfd(); }

private:
    std::mutex mutex_;
    sys::UniqueFd socket_;
    sys::ChildProcess process_;
};

class Spawner {
public:
    // Forks the spawner. Call from main() before any thread exists (fork of a threaded process
    // is unsafe). Errors: Step::spawner_start / socket / fork.
    [[nodiscard]] static sys::Result<SpawnerClient> start(const SpawnerOptions& options);
};

}  // namespace sbx::sandbox
