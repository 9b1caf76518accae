// RuntimeSnapshots: read-only copies of the runtime dir on tmpfs, private to the spawner.
#pragma once

#include <filesystem>
#include <map>

#include "sys/error.h"

namespace sbx::sandbox {

// Spawner process only (single-threaded). The first call moves the spawner into a private
// mount namespace. Each distinct runtime dir is copied once onto a tmpfs of its own, mounted
// read-only below `holder`; zygotes bind that tmpfs' root, so a run's mountinfo names no host
// path, and a later change of the files on the host cannot alter running zygotes.
class RuntimeSnapshots {
public:
    explicit RuntimeSnapshots(std::filesystem::path holder) : holder_(std::move(holder)) {}
    // The snapshot of `runtime_dir` (made on first use). Errors: Step::zygote_start (missing dir) / mount_tmpfs.
    [[nodiscard]] sys::Result<std::filesystem::path> get(const std::filesystem::path& runtime_dir);

private:
    sys::Result<void> enter_private_namespace();

    std::filesystem::path holder_;
    bool private_ = false;
    std::map<std::filesystem::path, std::filesystem::path> made_;
};

}  // namespace sbx::sandbox
