// SessionGauge: a counter per subject; zero counts are erased so the map stays small.
#include "auth/session_gauge.h"

namespace sbx::auth {

SessionSlot& SessionSlot::operator=(SessionSlot&& o) noexcept {
    if (this != &o) {
        release();
        owner_ = std::exchange(o.owner_, nullptr);
        subject_ = std::move(o.subject_);
    }
    return *this;
}

void SessionSlot::release() {
    if (owner_ != nullptr) std::exchange(owner_, nullptr)->close(subject_);
}

SessionAdmission SessionGauge::try_open(const std::string& subject, std::uint32_t limit) {
    std::lock_guard lock(mu_);
    auto& n = live_[subject];
    if (limit != 0 && n >= limit) {
        return SessionAdmission{
            {},
            LimitDecision::refuse(LimitKind::sessions, 1, RateLimitValues{limit, 0, 1},
                                  "Session limit exceeded: " + std::to_string(limit) +
                                      " live sessions at once; close one first")};
    }
    ++n;
    ++total_;
    std::optional<RateLimitValues> v;
    if (limit != 0) v = RateLimitValues{limit, limit - n, 0};
    return SessionAdmission{SessionSlot(this, subject), LimitDecision::allow(v)};
}

std::uint32_t SessionGauge::live(const std::string& subject) const {
    std::lock_guard lock(mu_);
    auto it = live_.find(subject);
    return it == live_.end() ? 0 : it->second;
}

std::uint64_t SessionGauge::total() const {
    std::lock_guard lock(mu_);
    return total_;
}

void SessionGauge::close(const std::string& subject) {
    std::lock_guard lock(mu_);
    auto it = live_.find(subject);
    if (it == live_.end()) return;
    --total_;
    if (--it->second == 0) live_.erase(it);
}

}  // namespace sbx::auth
