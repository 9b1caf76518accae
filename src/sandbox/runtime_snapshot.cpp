// RuntimeSnapshots: private mount namespace, one read-only tmpfs per runtime dir.
#include "sandbox/runtime_snapshot.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace sbx::sandbox {
namespace fs = std::filesystem;
using sys::Result;
using sys::Step;

namespace {

// The runtime's *.py files and the directories holding them, nothing else: a build dir used as
// the runtime dir also holds CMake files naming host paths. A link is never followed.
std::error_code copy_python_files(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        const fs::path name = entry.path().filename();
        if (entry.is_symlink(ec) || ec) continue;
        if (entry.is_directory(ec)) {
            if (name == "__pycache__" || name == "CMakeFiles") it.disable_recursion_pending();
            continue;
        }
        if (!entry.is_regular_file(ec) || name.extension() != ".py") continue;
        const fs::path dest = to / fs::relative(entry.path(), from, ec);
        if (!ec) fs::create_directories(dest.parent_path(), ec);
        if (!ec) fs::copy_file(entry.path(), dest, ec);
    }
    return ec;
}

}  // namespace

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
    if (!fs::is_directory(runtime_dir, ec)) ec = std::make_error_code(std::errc::no_such_file_or_directory);
    if (!ec) ec = copy_python_files(runtime_dir, target);
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
