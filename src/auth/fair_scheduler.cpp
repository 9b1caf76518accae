// FairScheduler: per-subject FIFOs and a round of subjects.
#include "auth/fair_scheduler.h"

#include <algorithm>

namespace sbx::auth {

FairScheduler::FairScheduler(unsigned capacity, unsigned queue_capacity)
    : capacity_(capacity == 0 ? 1 : capacity), queue_capacity_(queue_capacity) {}

unsigned FairScheduler::in_flight(const std::string& subject) const {
    auto it = subjects_.find(subject);
    if (it == subjects_.end()) return 0;
    return it->second.running + static_cast<unsigned>(it->second.waiting.size());
}

void FairScheduler::forget_if_idle(const std::string& subject) {
    auto it = subjects_.find(subject);
    if (it != subjects_.end() && it->second.running == 0 && it->second.waiting.empty()) {
        subjects_.erase(it);
    }
}

FairScheduler::Entered FairScheduler::enter(const std::string& subject, unsigned subject_limit) {
    if (subject_limit != 0 && in_flight(subject) >= subject_limit) {
        return {Outcome::key_busy};
    }
    // A free slot goes to a newcomer only when nobody waits: waiting subjects come first.
    if (running_ < capacity_ && queued_ == 0) {
        ++subjects_[subject].running;
        ++running_;
        return {Outcome::granted};
    }
    if (queued_ >= queue_capacity_) return {Outcome::queue_full};
    auto& s = subjects_[subject];
    const Ticket t = next_ticket_++;
    if (s.waiting.empty()) round_.push_back(subject);
    s.waiting.push_back(t);
    owners_.emplace(t, subject);
    ++queued_;
    return {Outcome::queued, t};
}

bool FairScheduler::cancel(Ticket ticket) {
    auto owner = owners_.find(ticket);
    if (owner == owners_.end()) return false;
    const std::string subject = owner->second;
    owners_.erase(owner);
    auto& s = subjects_[subject];
    s.waiting.erase(std::find(s.waiting.begin(), s.waiting.end(), ticket));
    --queued_;
    if (s.waiting.empty()) round_.erase(std::find(round_.begin(), round_.end(), subject));
    forget_if_idle(subject);
    return true;
}

std::optional<Ticket> FairScheduler::release(const std::string& subject) {
    auto it = subjects_.find(subject);
    if (it == subjects_.end() || it->second.running == 0) return std::nullopt;  // not ours
    --it->second.running;
    --running_;
    forget_if_idle(subject);
    if (round_.empty() || running_ >= capacity_) return std::nullopt;
    const std::string next = round_.front();
    round_.pop_front();
    auto& s = subjects_[next];
    const Ticket t = s.waiting.front();
    s.waiting.pop_front();
    owners_.erase(t);
    --queued_;
    ++s.running;
    ++running_;
    if (!s.waiting.empty()) round_.push_back(next);  // its next one waits for the others' turn
    return t;
}

}  // namespace sbx::auth
