// GidPool: the group ids that tell one run's network traffic from another's on the host.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

namespace sbx::network {

class GidPool;

// One gid, held while a run's network stack lives; returned to the pool on destruction.
class GidLease {
public:
    GidLease() = default;
    GidLease(std::shared_ptr<GidPool> pool, std::uint32_t gid) : pool_(std::move(pool)), gid_(gid) {}
    GidLease(GidLease&& o) noexcept : pool_(std::move(o.pool_)), gid_(o.gid_) {}
    GidLease& operator=(GidLease&& o) noexcept;
    GidLease(const GidLease&) = delete;
    GidLease& operator=(const GidLease&) = delete;
    ~GidLease();

    [[nodiscard]] std::uint32_t gid() const noexcept { return gid_; }

private:
    std::shared_ptr<GidPool> pool_;
    std::uint32_t gid_ = 0;
};

// Thread-safe. Hands out the least recently returned gid first, so that a gid's per-run
// firewall state (connection count, rate) has had the longest time to drain before reuse.
class GidPool : public std::enable_shared_from_this<GidPool> {
public:
    GidPool(std::uint32_t first, std::uint32_t count);
    [[nodiscard]] std::optional<GidLease> acquire();  // nullopt: all in use
    [[nodiscard]] std::size_t available() const;

private:
    friend class GidLease;
    void release(std::uint32_t gid);

    mutable std::mutex mu_;
    std::deque<std::uint32_t> free_;
};

}  // namespace sbx::network
