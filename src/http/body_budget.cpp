// Body budget: charges, progress order, dropping the longest-stalled bodies for room.
#include "http/body_budget.h"

#include <utility>
#include <vector>

namespace sbx::http {

BodyBudget::Charge BodyBudget::charge(Id id, std::uint64_t bytes, const Drop& drop,
                                      Clock::time_point now) {
    std::vector<Drop> victims;
    Charge result;
    {
        std::lock_guard lock(mutex_);
        while (used_ + bytes > capacity_ && !receiving_.empty()) {
            auto victim = entries_.find(receiving_.front());
            if (victim->first == id || now - victim->second.last_progress < stalled_after_) break;
            receiving_.pop_front();
            used_ -= victim->second.bytes;
            victims.push_back(std::move(victim->second.drop));
            entries_.erase(victim);
        }
        result.dropped = victims.size();
        if (used_ + bytes <= capacity_) {
            auto [it, fresh] = entries_.try_emplace(id);
            Entry& entry = it->second;
            if (fresh) {
                entry.drop = drop;
                entry.last_progress = now;
                entry.place = receiving_.insert(receiving_.end(), id);
            }
            entry.bytes += bytes;
            used_ += bytes;
            result.granted = true;
        }
    }
    for (auto& d : victims) {
        if (d) d();
    }
    return result;
}

void BodyBudget::progress(Id id, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.receiving) return;
    it->second.last_progress = now;
    receiving_.splice(receiving_.end(), receiving_, it->second.place);
}

void BodyBudget::received(Id id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.receiving) return;
    receiving_.erase(it->second.place);
    it->second.receiving = false;
}

void BodyBudget::release(Id id) noexcept {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    if (it->second.receiving) receiving_.erase(it->second.place);
    used_ -= it->second.bytes;
    entries_.erase(it);
}

std::uint64_t BodyBudget::used() const {
    std::lock_guard lock(mutex_);
    return used_;
}

}  // namespace sbx::http
