// Connection admission: count, waiting order, eviction of the longest waiter when full.
#include "http/connection_table.h"

#include <utility>

namespace sbx::http {

ConnectionTable::Admission ConnectionTable::open(Evict evict) {
    Evict victim;
    Admission admission;
    {
        std::lock_guard lock(mutex_);
        if (entries_.size() >= capacity_) {
            if (waiters_.empty()) return Admission{Admit::refused, 0};
            auto it = entries_.find(waiters_.front());
            waiters_.pop_front();
            victim = std::move(it->second.evict);
            entries_.erase(it);
            admission.result = Admit::admitted_by_eviction;
        } else {
            admission.result = Admit::admitted;
        }
        admission.id = next_id_++;
        auto place = waiters_.insert(waiters_.end(), admission.id);
        entries_.emplace(admission.id, Entry{std::move(evict), place});
    }
    if (victim) victim();
    return admission;
}

void ConnectionTable::close(Id id) noexcept {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    if (it->second.waiting) waiters_.erase(*it->second.waiting);
    entries_.erase(it);
}

void ConnectionTable::set_waiting(Id id, bool waiting) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    auto& place = it->second.waiting;
    if (place) {
        waiters_.erase(*place);
        place.reset();
    }
    if (waiting) place = waiters_.insert(waiters_.end(), id);
}

std::size_t ConnectionTable::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace sbx::http
