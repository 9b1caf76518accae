// RuntimeSnapshots: private mount namespace, one read-only tmpfs per runtime dir.
#include "sandbox/runtime_snapshot.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace sbx::sandbox {
namespace fs = std::filesystem;
using sys::Result;
using sys::Step;

Result<void> RuntimeSnapshots::enter_private_namespace() {
    if (private_) return {};
    // Our mounts must never show on the host: own mount namespace, nothing propagates out.
    if (::unshare(CLONE_NEWNS) != 0) return sys::errno_error(Step::unshare, "spawner mount ns");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return sys::errno_error(Step::mount_private, "/");
    }
    if (::mkdir(holder_.c_str(), 0755) != 0 && errno != EEXIST) {
        return sys::errno_error(Step::make_dir, holder_.string());
    }
    // A small holder tmpfs: the mount points of the snapshots live here, not on the host disk.
    if (::mount("tmpfs", holder_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") != 0) {
        return sys::errno_error(Step::mount_tmpfs, holder_.string());
    }
    private_ = true;
    return {};
}

Result<fs::path> RuntimeSnapshots::get(const fs::path& runtime_dir) {
    if (auto it = made_.find(runtime_dir); it != made_.end()) return it->second;
    SBX_TRY_VOID(enter_private_namespace());
    const fs::path target = holder_ / ("runtime-" + std::to_string(made_.size()));
    std::error_code ec;
    fs::create_directory(target, ec);
    if (ec) return sys::SysError{Step::make_dir, ec.value(), target.string()};
    if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m") != 0) {
        return sys::errno_error(Step::mount_tmpfs, target.string());
    }
    // Regular files and directories only: a link in the runtime dir is not followed into it.
    if (!fs::is_directory(runtime_dir, ec)) ec = std::make_error_code(std::errc::no_such_file_or_directory);
    if (!ec) fs::copy(runtime_dir, target, fs::copy_options::recursive | fs::copy_options::skip_symlinks, ec);
    if (ec) {
        ::umount2(target.c_str(), MNT_DETACH);
        return sys::SysError{Step::zygote_start, ec.value(), "runtime dir " + runtime_dir.string()};
    }
    fs::permissions(target, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec, ec);
    if (::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) {
        return sys::errno_error(Step::mount_remount, target.string());
    }
    made_.emplace(runtime_dir, target);
    return target;
}

}  // namespace sbx::sandbox
