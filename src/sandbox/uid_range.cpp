// UidRangeLock: a directory of flock-held files, one per live server's block of host ids.
#include "sandbox/uid_range.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <system_error>

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;
using sys::Step;
using sys::UniqueFd;

struct Registered {
    std::uint64_t first = 0, last = 0;
    long pid = 0;
};

// "<first>-<last>-<pid>", or nullopt for a name that is not ours.
std::optional<Registered> parse_name(std::string_view name) {
    Registered r;
    std::uint64_t* fields[] = {&r.first, &r.last};
    for (auto* f : fields) {
        auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), *f);
        if (ec != std::errc{} || p == name.data() + name.size() || *p != '-') return std::nullopt;
        name.remove_prefix(static_cast<std::size_t>(p - name.data()) + 1);
    }
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), r.pid);
    if (ec != std::errc{} || p != name.data() + name.size() || r.first > r.last) return std::nullopt;
    return r;
}

sys::Result<UniqueFd> open_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return sys::SysError{Step::mkdir, ec.value(), dir.string()};
    (void)::chmod(dir.c_str(), 0700);  // only root registers; nobody else needs to look
    UniqueFd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!fd) return sys::errno_error(Step::open, dir.string());
    return fd;
}

// A registration is live when its file's lock is held. Leftovers of dead servers are removed.
bool live(const fs::path& file) {
    UniqueFd fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd) return false;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return errno == EWOULDBLOCK;
    (void)::unlink(file.c_str());
    return false;
}

}  // namespace

UidRangeLock& UidRangeLock::operator=(UidRangeLock&& o) noexcept {
    if (this != &o) {
        if (fd_) (void)::unlink(file_.c_str());
        file_ = std::move(o.file_);
        fd_ = std::move(o.fd_);
    }
    return *this;
}

UidRangeLock::~UidRangeLock() {
    if (fd_) (void)::unlink(file_.c_str());
}

sys::Result<UidRangeLock> UidRangeLock::acquire(const fs::path& dir, std::uint32_t first,
                                                std::uint32_t count, std::string& shared_with) {
    const std::uint64_t last = std::uint64_t{first} + count - 1;
    SBX_TRY(UniqueFd dir_fd, open_dir(dir));
    // One registration at a time: two servers starting together each see the other's file.
    if (::flock(dir_fd.get(), LOCK_EX) != 0) return sys::errno_error(Step::uid_pool, dir.string());
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator{dir, ec}) {
        const auto other = parse_name(entry.path().filename().string());
        if (!other || other->last < first || other->first > last || !live(entry.path())) continue;
        const std::string desc = std::to_string(other->first) + "-" + std::to_string(other->last) +
                                 " (server pid " + std::to_string(other->pid) + ")";
        if (other->first != first || other->last != last) {
            return sys::SysError{Step::uid_pool, EADDRINUSE,
                                 "host ids " + std::to_string(first) + "-" + std::to_string(last) +
                                     " overlap those of a running server: " + desc};
        }
        shared_with = desc;
    }
    UidRangeLock lock;
    lock.file_ = dir / (std::to_string(first) + "-" + std::to_string(last) + "-" +
                        std::to_string(::getpid()));
    lock.fd_ = UniqueFd{::open(lock.file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)};
    if (!lock.fd_) return sys::errno_error(Step::open, lock.file_.string());
    if (::flock(lock.fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        return sys::errno_error(Step::uid_pool, lock.file_.string());
    }
    return lock;
}

}  // namespace sbx::sandbox
