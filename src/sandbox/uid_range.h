// UidRangeLock: this server's block of host ids, reserved against other live servers.
#pragma once

#include <cstdint>
#include <string>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox {

// Live servers announce their blocks as abstract unix sockets of the host's network namespace,
// "@<prefix>/<first>-<last>/<pid>", bound for the server's life: the kernel removes the name
// when the server dies, however it dies, and no file system needs to be writable (a hardened
// unit's /run is not). /proc/net/unix lists them.
inline constexpr const char* kUidRangePrefix = "pysandbox/uid-range";

class UidRangeLock {
public:
    UidRangeLock() = default;

    // Announces [first, first + count). Refuses (Step::uid_pool, EADDRINUSE, naming the other
    // block and its server's pid) when a live server's block overlaps ours without being the
    // very same block. The same block (equal SANDBOX_UID_BASE) is allowed, as before, and
    // described in `shared_with` (the caller warns): such servers share their run uids, hence
    // their per-user kernel quotas. Two servers starting at once each see the other.
    [[nodiscard]] static sys::Result<UidRangeLock> acquire(const std::string& prefix,
                                                           std::uint32_t first, std::uint32_t count,
                                                           std::string& shared_with);

private:
    sys::UniqueFd socket_;  // bound to our name while it lives
};

}  // namespace sbx::sandbox
