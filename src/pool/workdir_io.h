// Work-dir I/O from the host side, through the run's work-dir fd: inputs in, outputs out.
// Never follows a symlink, never opens a FIFO, socket or device, never leaves the directory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/run_types.h"
#include "sys/error.h"

namespace sbx::pool {

struct Owner {
    uid_t uid;
    gid_t gid;
};

// Writes each file (creating parent dirs) beneath dirfd, owned by `owner`. Fails on the first
// error (e.g. ENOSPC: inputs larger than the work dir) with the file's name in the detail.
[[nodiscard]] sys::Result<void> write_inputs(int dirfd, const std::vector<sandbox::InputFile>& files,
                                             Owner owner);

struct CollectLimits {
    std::uint32_t max_files = 1000;
    std::uint64_t max_total_bytes = 50ULL << 20;
    unsigned max_depth = 32;
};

struct Collected {
    std::vector<sandbox::OutputFile> files;  // sorted by name
    std::vector<std::string> warnings;       // what was skipped and why
};

// Collects regular files created or changed under dirfd. `unchanged` lists inputs as written:
// a file whose content still equals its input is not returned; `skip` names are never returned.
[[nodiscard]] Collected collect_outputs(int dirfd, const std::vector<sandbox::InputFile>& unchanged,
                                        const std::vector<std::string>& skip,
                                        const CollectLimits& limits);

}  // namespace sbx::pool
