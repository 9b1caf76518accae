// UidRangeLock: abstract unix socket names as the registry of live servers' id blocks.
#include "sandbox/uid_range.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>

namespace sbx::sandbox {
namespace {

using sys::Step;
using sys::UniqueFd;

struct Announced {
    std::uint64_t first = 0, last = 0;
    long pid = 0;
};

// "<first>-<last>/<pid>" after "@<prefix>/", or nullopt for any other name.
std::optional<Announced> parse_name(std::string_view name, std::string_view prefix) {
    if (!name.starts_with('@') || name.substr(1, prefix.size()) != prefix ||
        name.substr(1 + prefix.size(), 1) != "/") {
        return std::nullopt;
    }
    name.remove_prefix(prefix.size() + 2);
    Announced a;
    const char* p = name.data();
    const char* end = name.data() + name.size();
    auto r1 = std::from_chars(p, end, a.first);
    if (r1.ec != std::errc{} || r1.ptr == end || *r1.ptr != '-') return std::nullopt;
    auto r2 = std::from_chars(r1.ptr + 1, end, a.last);
    if (r2.ec != std::errc{} || r2.ptr == end || *r2.ptr != '/') return std::nullopt;
    auto r3 = std::from_chars(r2.ptr + 1, end, a.pid);
    if (r3.ec != std::errc{} || r3.ptr != end || a.first > a.last) return std::nullopt;
    return a;
}

sys::Result<UniqueFd> bind_name(const std::string& name) {
    UniqueFd fd{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    if (!fd) return sys::errno_error(Step::socket, "uid range announcement");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name.size() + 1 > sizeof addr.sun_path) return sys::SysError{Step::uid_pool, ENAMETOOLONG, name};
    std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {  // NOLINT
        return sys::errno_error(Step::uid_pool, "@" + name);
    }
    return fd;
}

}  // namespace

sys::Result<UidRangeLock> UidRangeLock::acquire(const std::string& prefix, std::uint32_t first,
                                                std::uint32_t count, std::string& shared_with) {
    const std::uint64_t last = std::uint64_t{first} + count - 1;
    const long self = ::getpid();
    UidRangeLock lock;
    // Announce first, then look: of two servers starting at once, each sees the other.
    SBX_TRY(lock.socket_, bind_name(prefix + "/" + std::to_string(first) + "-" +
                                    std::to_string(last) + "/" + std::to_string(self)));
    std::ifstream table("/proc/self/net/unix");
    if (!table) return sys::errno_error(Step::open, "/proc/self/net/unix");
    for (std::string line; std::getline(table, line);) {
        const auto at = line.rfind(' ');
        const auto other = parse_name(std::string_view{line}.substr(at + 1), prefix);
        if (!other || other->pid == self || other->last < first || other->first > last) continue;
        const std::string desc = std::to_string(other->first) + "-" + std::to_string(other->last) +
                                 " (server pid " + std::to_string(other->pid) + ")";
        if (other->first != first || other->last != last) {
            return sys::SysError{Step::uid_pool, EADDRINUSE,
                                 "host ids " + std::to_string(first) + "-" + std::to_string(last) +
                                     " overlap those of a running server: " + desc};
        }
        shared_with = desc;
    }
    return lock;
}

}  // namespace sbx::sandbox
