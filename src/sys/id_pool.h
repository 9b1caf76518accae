// IdPool: a set of host ids (run uids, egress gids) handed out one per holder, least recently
// returned first.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "sys/unique_fd.h"

namespace sbx::sys {

class IdPool;

// One id, held while its user lives; returned to the pool on destruction.
class IdLease {
public:
    IdLease() = default;
    IdLease(std::shared_ptr<IdPool> pool, std::uint32_t id) : pool_(std::move(pool)), id_(id) {}
    IdLease(IdLease&& o) noexcept
        : pool_(std::move(o.pool_)), id_(o.id_), busy_until_(std::move(o.busy_until_)) {}
    IdLease& operator=(IdLease&& o) noexcept;
    IdLease(const IdLease&) = delete;
    IdLease& operator=(const IdLease&) = delete;
    ~IdLease();

    [[nodiscard]] std::uint32_t id() const noexcept { return id_; }
    [[nodiscard]] explicit operator bool() const noexcept { return pool_ != nullptr; }
    // Once returned, the id is not handed out again before `fd` polls readable (a pidfd: the
    // holder's process has exited). For holders whose processes may outlive the lease.
    void busy_until_readable(UniqueFd fd) noexcept { busy_until_ = std::move(fd); }

private:
    std::shared_ptr<IdPool> pool_;
    std::uint32_t id_ = 0;
    UniqueFd busy_until_;
};

// Thread-safe. Hands out the least recently returned id first, so that whatever the kernel
// still tears down of an id's last holder (a gid's firewall counters, a uid's quotas freed by
// deferred work) has had the longest time to drain before the id is used again.
class IdPool : public std::enable_shared_from_this<IdPool> {
public:
    IdPool(std::uint32_t first, std::uint32_t count);
    [[nodiscard]] std::optional<IdLease> acquire();  // nullopt: all in use
    [[nodiscard]] std::size_t available() const;
    [[nodiscard]] std::uint32_t size() const noexcept { return count_; }

private:
    friend class IdLease;
    void release(std::uint32_t id, UniqueFd busy_until);

    struct Free {
        std::uint32_t id;
        UniqueFd busy_until;  // empty, or readable once the last holder's process is gone
    };
    const std::uint32_t count_;
    mutable std::mutex mu_;
    std::deque<Free> free_;
};

}  // namespace sbx::sys
