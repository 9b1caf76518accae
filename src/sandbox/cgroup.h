// Cgroups for runs: one interface (v1, v2 or none), chosen once at start-up by detect().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox {

struct CgroupLimits {
    std::uint64_t memory_bytes = 512ULL << 20;  // hard limit, swap included where possible
    std::uint32_t pids = 64;                    // processes + threads
    double cpu_cores = 1.0;                     // CFS quota in cores (> 0)
    // Socket buffers (TCP, and UDP with it): v1 counts them in memory.kmem.tcp, apart from
    // memory.limit_in_bytes, and only once that limit is set; v2 charges them to memory.max.
    std::uint64_t socket_bytes = 64ULL << 20;
};

struct CgroupStats {
    std::optional<std::uint64_t> memory_peak_bytes;       // v1 max_usage, v2 memory.peak (5.19+)
    std::optional<std::chrono::microseconds> cpu_time;    // user + system of every process
    std::uint64_t oom_kills = 0;                          // processes the OOM killer killed
};

// What a backend does for one run group; RunCgroup owns it. Spawner/server side only.
class RunCgroupBackend {
public:
    virtual ~RunCgroupBackend() = default;
    [[nodiscard]] virtual sys::Result<std::vector<sys::UniqueFd>> open_procs_fds() const = 0;
    [[nodiscard]] virtual sys::Result<CgroupStats> stats() const = 0;
    [[nodiscard]] virtual sys::Result<void> kill() = 0;
    // Host pids of the processes inside now (cgroup.procs), without waiting or signalling.
    [[nodiscard]] virtual std::vector<pid_t> members() const = 0;
    // Kills, waits (bounded) until empty, removes every directory. Idempotent.
    [[nodiscard]] virtual sys::Result<void> remove() = 0;
    [[nodiscard]] virtual std::vector<std::filesystem::path> dirs() const = 0;
};

// One run's cgroup (one directory per v1 controller, one for v2). Move-only; the destructor
// kills what is inside, waits until it is empty (a few ms at most) and removes the directories.
// A default-constructed RunCgroup (the "none" manager) does nothing and reports no stats.
// Thread-safety: none; one owner.
class RunCgroup {
public:
    RunCgroup() noexcept = default;
    explicit RunCgroup(std::unique_ptr<RunCgroupBackend> backend) noexcept;
    RunCgroup(RunCgroup&&) noexcept = default;
    RunCgroup& operator=(RunCgroup&& other) noexcept;
    RunCgroup(const RunCgroup&) = delete;
    RunCgroup& operator=(const RunCgroup&) = delete;
    ~RunCgroup();

    [[nodiscard]] bool active() const noexcept { return backend_ != nullptr; }
    // cgroup.procs of each directory, O_WRONLY|O_CLOEXEC: a process (even inside a user
    // namespace) writes "0" to each to join. Empty when inactive.
    [[nodiscard]] sys::Result<std::vector<sys::UniqueFd>> open_procs_fds() const;
    [[nodiscard]] sys::Result<CgroupStats> stats() const;
    // Kills every process inside (v2 cgroup.kill; v1 freeze + SIGKILL + thaw).
    [[nodiscard]] sys::Result<void> kill();
    // Host pids of the processes inside now; empty when inactive.
    [[nodiscard]] std::vector<pid_t> members() const;
    // Explicit teardown with its error; the destructor does the same and drops the error.
    [[nodiscard]] sys::Result<void> remove();
    [[nodiscard]] std::vector<std::filesystem::path> dirs() const;

private:
    std::unique_ptr<RunCgroupBackend> backend_;
};

enum class CgroupVersion : std::uint8_t { none, v1, v2 };

// Whether a run's socket buffers count against its memory group, and how (for /health).
struct SocketAccounting {
    bool charged = false;
    std::string detail;
};
std::string_view to_string(CgroupVersion v) noexcept;

// Creates run groups below "<our own cgroup>/<prefix>/". Thread-safe (no mutable state).
class CgroupManager {
public:
    virtual ~CgroupManager() = default;
    [[nodiscard]] virtual CgroupVersion version() const noexcept = 0;
    // For logs and /health: where runs go, or why there are no cgroups (rlimits instead).
    [[nodiscard]] virtual std::string describe() const = 0;
    [[nodiscard]] virtual SocketAccounting socket_accounting() const = 0;
    // run_id: [A-Za-z0-9_-]{1,64}. Errors: Step::cgroup_create / cgroup_limit.
    [[nodiscard]] virtual sys::Result<RunCgroup> create_run(const std::string& run_id,
                                                            const CgroupLimits& limits) const = 0;
    // At start-up: kills and removes every leftover run group under our prefix.
    [[nodiscard]] virtual sys::Result<void> cleanup_leftovers() const = 0;
};

struct CgroupDetectOptions {
    std::filesystem::path mount_root = "/sys/fs/cgroup";   // injectable for tests
    std::filesystem::path self_cgroup = "/proc/self/cgroup";  // "<id>:<controllers>:<path>"
    std::string prefix = "pysandbox";
    // v2 charges socket buffers to memory.current unless booted with cgroup.memory=nosocket.
    std::filesystem::path kernel_cmdline = "/proc/cmdline";
};

// Picks v2 (mount_root/cgroup.controllers with memory, pids, cpu), else v1 (memory, pids, cpu,
// cpuacct hierarchies; freezer if mounted), else "none" with the reason in describe(). Prepares
// the prefix directory (v2: moves this process to "<prefix>-server" if its cgroup holds
// processes, enables +memory +pids +cpu). Never fails: a problem yields "none".
[[nodiscard]] std::unique_ptr<CgroupManager> detect_cgroups(const CgroupDetectOptions& options);

}  // namespace sbx::sandbox
