// GidPool: a FIFO of free group ids.
#include "network/gid_pool.h"

namespace sbx::network {

GidLease::~GidLease() {
    if (pool_) pool_->release(gid_);
}

GidLease& GidLease::operator=(GidLease&& o) noexcept {
    if (this != &o) {
        if (pool_) pool_->release(gid_);
        pool_ = std::move(o.pool_);
        gid_ = o.gid_;
    }
    return *this;
}

GidPool::GidPool(std::uint32_t first, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) free_.push_back(first + i);
}

std::optional<GidLease> GidPool::acquire() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::nullopt;
    const std::uint32_t gid = free_.front();
    free_.pop_front();
    return std::optional<GidLease>(std::in_place, shared_from_this(), gid);
}

std::size_t GidPool::available() const {
    std::lock_guard lock(mu_);
    return free_.size();
}

void GidPool::release(std::uint32_t gid) {
    std::lock_guard lock(mu_);
    free_.push_back(gid);
}

}  // namespace sbx::network
