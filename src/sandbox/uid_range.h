// UidRangeLock: this server's block of host ids, reserved against other live servers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox {

// Where live servers register their blocks: one file per server, "<first>-<last>-<pid>",
// held under an exclusive flock for the server's life (the lock dies with the process, so a
// file whose lock can be taken is a crashed server's leftover and is removed).
inline constexpr const char* kUidRangeDir = "/run/pysandbox/uid-ranges";

class UidRangeLock {
public:
    UidRangeLock() = default;
    UidRangeLock(UidRangeLock&&) noexcept = default;
    UidRangeLock& operator=(UidRangeLock&&) noexcept;
    UidRangeLock(const UidRangeLock&) = delete;
    UidRangeLock& operator=(const UidRangeLock&) = delete;
    ~UidRangeLock();  // removes the registration

    // Registers [first, first + count) in `dir` (created 0700). Refuses (Step::uid_pool,
    // EADDRINUSE, naming the other range and its server's pid) when a live server's block
    // overlaps ours without being the very same block. The same block (equal SANDBOX_UID_BASE)
    // is allowed, as before, and described in `shared_with` (the caller warns): such servers
    // share their run uids, hence their per-user kernel quotas.
    [[nodiscard]] static sys::Result<UidRangeLock> acquire(const std::filesystem::path& dir,
                                                           std::uint32_t first, std::uint32_t count,
                                                           std::string& shared_with);

private:
    std::filesystem::path file_;
    sys::UniqueFd fd_;  // holds the flock
};

}  // namespace sbx::sandbox
