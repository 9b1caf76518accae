// IdPool: a FIFO of free ids, each possibly still waiting for its last holder's process.
#include "sys/id_pool.h"

#include <poll.h>

namespace sbx::sys {
namespace {

bool ready(const UniqueFd& fd) {
    if (!fd) return true;
    pollfd p{fd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

}  // namespace

IdLease::~IdLease() {
    if (pool_) pool_->release(id_, std::move(busy_until_));
}

IdLease& IdLease::operator=(IdLease&& o) noexcept {
    if (this != &o) {
        if (pool_) pool_->release(id_, std::move(busy_until_));
        pool_ = std::move(o.pool_);
        id_ = o.id_;
        busy_until_ = std::move(o.busy_until_);
    }
    return *this;
}

IdPool::IdPool(std::uint32_t first, std::uint32_t count) : count_(count) {
    for (std::uint32_t i = 0; i < count; ++i) free_.push_back(Free{first + i, {}});
}

std::optional<IdLease> IdPool::acquire() {
    std::lock_guard lock(mu_);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (!ready(it->busy_until)) continue;
        const std::uint32_t id = it->id;
        free_.erase(it);
        return std::optional<IdLease>(std::in_place, shared_from_this(), id);
    }
    return std::nullopt;
}

std::size_t IdPool::available() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& f : free_) n += ready(f.busy_until) ? 1 : 0;
    return n;
}

void IdPool::release(std::uint32_t id, UniqueFd busy_until) {
    if (ready(busy_until)) busy_until.reset();  // the usual case: hold no fd for nothing
    std::lock_guard lock(mu_);
    free_.push_back(Free{id, std::move(busy_until)});
}

}  // namespace sbx::sys
