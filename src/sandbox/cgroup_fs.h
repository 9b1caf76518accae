// Small file helpers shared by the cgroup backends: control-file I/O, own-cgroup lookup, removal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"

namespace sbx::sandbox::cgfs {

namespace fs = std::filesystem;

// Writes `value` to a control file (O_CREAT so fake trees in tests work; cgroupfs ignores it for
// existing files and refuses to create new ones). Errors: `step` with the path.
[[nodiscard]] sys::Result<void> write(const fs::path& file, std::string_view value, sys::Step step);
[[nodiscard]] sys::Result<std::string> read(const fs::path& file, sys::Step step);
// First number of the file, or of the line starting with "<key> " when key is given.
[[nodiscard]] sys::Result<std::uint64_t> read_u64(const fs::path& file, sys::Step step,
                                                  std::string_view key = {});
[[nodiscard]] std::vector<pid_t> read_pids(const fs::path& procs_file);

// /proc/self/cgroup: controller name ("memory", "" for v2) -> path inside its hierarchy.
[[nodiscard]] std::map<std::string, std::string> own_cgroups(const fs::path& self_cgroup);

// Run ids name directories: [A-Za-z0-9_-]{1,64}.
[[nodiscard]] bool valid_run_id(std::string_view id);

// mkdir (EEXIST is fine when `exist_ok`). Errors: Step::cgroup_create.
// True for a run group named "p<pid>-..." whose server (pid) is another live process: start-up
// clean-up spares it, so that servers sharing a hierarchy do not kill each other's runs.
[[nodiscard]] bool owned_by_live_server(std::string_view name);

[[nodiscard]] sys::Result<void> make_dir(const fs::path& dir, bool exist_ok);

// mkdir of a run's directory. When its parent (the prefix directory) is gone — another server
// with the same CGROUP_PREFIX removed it at exit while it was empty — the parent is made again,
// `remake` (if any) restores what it needs (v2: cgroup.subtree_control), and the mkdir is
// tried once more.
[[nodiscard]] sys::Result<void> make_run_dir(const fs::path& dir,
                                             const std::function<sys::Result<void>()>& remake = {});

// Until `procs` reads empty or `budget` ends (true when empty): SIGKILLs every listed pid when
// `signal`, else only waits (after cgroup.kill or a frozen kill the kernel is doing it).
bool kill_until_empty(const fs::path& procs, std::chrono::milliseconds budget, bool signal = true);

// rmdir, retried briefly on EBUSY (the kernel frees a dying group asynchronously). ENOENT is ok.
[[nodiscard]] sys::Result<void> remove_dir(const fs::path& dir);

}  // namespace sbx::sandbox::cgfs
