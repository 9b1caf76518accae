// The zygote's pre-built set-up plan: all the post-clone child needs, allocated before clone.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/spawner.h"
#include "sys/error.h"

namespace sbx::sandbox {

// One step of building the new root under the staging dir (all paths absolute, pre-joined).
enum class OpKind : std::uint8_t {
    tmpfs,       // mount tmpfs on dst, `flags` mount flags, `arg` = mount options
    proc,        // mount a new proc on dst (nosuid,nodev,noexec)
    make_dir,    // mkdir dst 0755
    make_file,   // create empty file dst 0644 (a bind-mount target)
    write_file,  // create dst 0644 holding `arg`
    symlink,     // dst -> `arg`
    bind,        // recursive bind of `arg` on dst, then mount_setattr(`flags`) recursively
    set_attr,    // mount_setattr(`flags`) on dst itself, not recursive
    sysctl,      // write `arg` to the existing file dst (a /proc/sys entry); absent: skipped
};

struct PlanOp {
    OpKind kind;
    sys::Step step;       // reported when this op fails
    std::string dst;      // absolute path below the staging dir
    std::string arg;      // source / link target / contents / mount options
    std::uint64_t flags;  // MS_* for tmpfs, MOUNT_ATTR_* for bind and set_attr
};

// Fixed-size failure record, written by the child to a CLOEXEC pipe before _exit.
struct ChildFailure {
    sys::Step step;
    std::int32_t err;       // errno of the failing call
    std::int32_t op_index;  // index into ChildPlan::ops, or -1 for a fixed step
};

// fds the child uses; the launcher places all of them at >= kChildFdFloor so dup2 onto 3 and 4
// cannot clobber another one.
inline constexpr int kChildFdFloor = 10;
struct ChildFds {
    int release = -1;   // read end: one byte once uid/gid maps are written; EOF = abort
    int failure = -1;   // write end (CLOEXEC): ChildFailure, or EOF at execve
    int control = -1;   // becomes fd 3
    int seccomp = -1;   // becomes fd 4
};

struct ChildPlan {
    std::string stage;               // host dir the new root's tmpfs is mounted on
    std::vector<PlanOp> ops;         // root fs, in order
    std::string python;              // execve path (same inside: /usr is bound at /usr)
    std::vector<std::string> argv_storage;
    std::vector<std::string> env_storage;
    std::vector<char*> argv;         // null-terminated views of argv_storage
    std::vector<char*> envp;         // null-terminated views of env_storage
    ChildFds fds;
    int fail_at = -1;                // tests: the N-th checked set-up call fails with EIO
};

// Parent side (spawner): builds the plan from `spec` (globs /etc for what exists on this host).
// The returned plan's argv/envp point into its own storage: do not copy it, move is fine.
[[nodiscard]] sys::Result<ChildPlan> build_zygote_plan(const ZygoteSpec& spec,
                                                       const std::filesystem::path& stage);

// Detail for a failure: the path inside the sandbox of the failing op, or the fixed step's path.
[[nodiscard]] std::string describe_failure(const ChildPlan& plan, const ChildFailure& f);

// Child side: runs the plan and execs python. Never returns.
[[noreturn]] void child_run_zygote(const ChildPlan& plan) noexcept;

}  // namespace sbx::sandbox
