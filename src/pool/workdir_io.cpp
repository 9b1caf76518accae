// Work-dir I/O: openat-based writes and a no-follow walk for collection.
#include "pool/workdir_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "sys/eintr.h"
#include "sys/unique_fd.h"

namespace sbx::pool {
namespace {

using sys::Result;
using sys::Step;
using sys::UniqueFd;

Result<void> write_all(int fd, std::string_view data, const std::string& name) {
    while (!data.empty()) {
        auto n = sys::retry_eintr([&] { return ::write(fd, data.data(), data.size()); });
        if (n < 0) return sys::errno_error(Step::write_input, name);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

// Opens (creating if needed) each directory of `dirs` beneath root, owned by owner.
Result<UniqueFd> open_parent(int root, std::string_view rel_dir, const std::string& name) {
    UniqueFd current{::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!current) return sys::errno_error(Step::write_input, name);
    while (!rel_dir.empty()) {
        auto slash = rel_dir.find('/');
        std::string seg(rel_dir.substr(0, slash));
        rel_dir = slash == std::string_view::npos ? std::string_view{} : rel_dir.substr(slash + 1);
        if (::mkdirat(current.get(), seg.c_str(), 0755) != 0 && errno != EEXIST) {
            return sys::errno_error(Step::write_input, name);
        }
        UniqueFd next{::openat(current.get(), seg.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
        if (!next) return sys::errno_error(Step::write_input, name);
        current = std::move(next);
    }
    return current;
}

struct Walker {
    const std::map<std::string, const std::string*>& inputs;
    const std::vector<std::string>& skip;
    const CollectLimits& limits;
    Collected out;
    std::uint64_t total = 0;

    static constexpr std::size_t kMaxWarnings = 100;  // a 100k-file run must not yield 100k lines
    std::size_t unlisted = 0;

    void warn(const std::string& path, std::string_view why) {
        if (out.warnings.size() >= kMaxWarnings) {
            ++unlisted;
            return;
        }
        out.warnings.push_back("skipped " + path + ": " + std::string(why));
    }

    void take_file(int dirfd, const std::string& name, const std::string& path, const struct stat& st);
    void walk(int dirfd, const std::string& prefix, unsigned depth);
};

void Walker::take_file(int dirfd, const std::string& name, const std::string& path, const struct stat& st) {
    if (out.files.size() >= limits.max_files) return warn(path, "too many output files");
    if (total + static_cast<std::uint64_t>(st.st_size) > limits.max_total_bytes) {
        return warn(path, "output files too large in total");
    }
    // O_NONBLOCK: a FIFO swapped in after the stat cannot hang us; fstat re-checks the type.
    UniqueFd fd{::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    struct stat again {};
    if (!fd || ::fstat(fd.get(), &again) != 0 || !S_ISREG(again.st_mode) || again.st_ino != st.st_ino) {
        return warn(path, "not a regular file");
    }
    std::string content(static_cast<std::size_t>(again.st_size), '\0');
    std::size_t got = 0;
    while (got < content.size()) {
        auto n = sys::retry_eintr([&] { return ::read(fd.get(), content.data() + got, content.size() - got); });
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    content.resize(got);
    if (auto it = inputs.find(path); it != inputs.end() && *it->second == content) return;
    total += content.size();
    out.files.push_back(sandbox::OutputFile{path, std::move(content)});
}

void Walker::walk(int dirfd, const std::string& prefix, unsigned depth) {
    UniqueFd listing{::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    DIR* dir = listing ? ::fdopendir(listing.release()) : nullptr;
    if (dir == nullptr) return warn(prefix.empty() ? "." : prefix, "unreadable directory");
    std::vector<std::string> names;
    while (dirent* e = ::readdir(dir)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        const std::string path = prefix.empty() ? name : prefix + "/" + name;
        if (std::find(skip.begin(), skip.end(), path) != skip.end()) continue;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= limits.max_depth) {
                warn(path, "directory nested too deep");
                continue;
            }
            UniqueFd sub{::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
            if (sub) walk(sub.get(), path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            take_file(dirfd, name, path, st);
        } else {
            warn(path, S_ISLNK(st.st_mode) ? "symbolic link" : "not a regular file");
        }
    }
}

// Acts as `owner` for file-system access on this thread only (setfsuid/setfsgid are per
// thread): the run's tmpfs belongs to its user namespace, where host root is not mapped, so
// files must be created by the mapped uid (creating them as root fails with EOVERFLOW).
class FsIdentity {
public:
    explicit FsIdentity(Owner owner) {
        ::setfsgid(owner.gid);
        ::setfsuid(owner.uid);
    }
    FsIdentity(const FsIdentity&) = delete;
    FsIdentity& operator=(const FsIdentity&) = delete;
    ~FsIdentity() {
        ::setfsuid(0);
        ::setfsgid(0);
    }
};

}  // namespace

Result<void> write_inputs(int dirfd, const std::vector<sandbox::InputFile>& files, Owner owner) {
    const FsIdentity as_owner(owner);  // no co_await below: the whole write stays on this thread
    for (const auto& f : files) {
        const auto slash = f.name.rfind('/');
        const std::string_view dir = slash == std::string::npos ? std::string_view{} : std::string_view(f.name).substr(0, slash);
        const std::string leaf = slash == std::string::npos ? f.name : f.name.substr(slash + 1);
        SBX_TRY(UniqueFd parent, open_parent(dirfd, dir, f.name));
        UniqueFd fd{::openat(parent.get(), leaf.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)};
        if (!fd) return sys::errno_error(Step::write_input, f.name);
        SBX_TRY_VOID(write_all(fd.get(), f.content, f.name));
    }
    return {};
}

Collected collect_outputs(int dirfd, const std::vector<sandbox::InputFile>& unchanged,
                          const std::vector<std::string>& skip, const CollectLimits& limits) {
    std::map<std::string, const std::string*> inputs;
    for (const auto& f : unchanged) inputs[f.name] = &f.content;
    Walker walker{inputs, skip, limits, {}, 0};
    walker.walk(dirfd, "", 0);
    if (walker.unlisted > 0) {
        walker.out.warnings.push_back("skipped " + std::to_string(walker.unlisted) + " more files (not listed)");
    }
    return std::move(walker.out);
}

}  // namespace sbx::pool
