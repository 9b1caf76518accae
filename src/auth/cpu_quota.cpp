// CpuQuota: pending additions per (subject, day), totals per subject, one sync at a time.
#include "auth/cpu_quota.h"

#include <cmath>
#include <ctime>

#include "log/log.h"

namespace sbx::auth {

namespace asio = boost::asio;
using std::chrono::system_clock;

CpuQuota::CpuQuota(store::Repository& repository, asio::any_io_executor blocking,
                   CpuQuotaOptions options, WallClock clock)
    : repository_(repository),
      blocking_(std::move(blocking)),
      options_(options),
      clock_(clock ? std::move(clock) : [] { return system_clock::now(); }) {}

CpuQuota::~CpuQuota() { stop(); }

std::string CpuQuota::utc_day(system_clock::time_point t) { return store::utc_day(t); }

void CpuQuota::start() {
    syncer_ = std::make_unique<store::PeriodicTask>(blocking_, options_.sync_interval,
                                                    [this] { (void)sync(); });
    syncer_->start(std::chrono::milliseconds(0));
}

void CpuQuota::stop() {
    if (!syncer_) return;
    syncer_->stop();
    syncer_.reset();
    (void)sync();
}

CpuQuota::Entry& CpuQuota::entry_locked(const std::string& subject, const std::string& today) {
    auto& e = entries_[subject];
    if (e.day != today) {  // a new UTC day: yesterday's use no longer counts
        e.day = today;
        e.stored = 0;
    }
    return e;
}

double CpuQuota::pending_locked(const std::string& subject, const std::string& day) const {
    // Additions being written count until the totals read back include them.
    double sum = 0;
    for (const auto* m : {&pending_, &syncing_}) {
        auto it = m->find({subject, day});
        if (it != m->end()) sum += it->second;
    }
    return sum;
}

LimitDecision CpuQuota::check(const std::string& subject, double limit_per_day) {
    if (limit_per_day <= 0) return LimitDecision::allow();
    const auto now = clock_();
    const auto today = utc_day(now);
    std::lock_guard lock(mu_);
    auto& e = entry_locked(subject, today);
    e.last_checked = now;
    const double used = e.stored + pending_locked(subject, today);
    // Seconds to the next UTC midnight, when the quota starts again.
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const auto reset = static_cast<std::uint64_t>(86400 - secs % 86400);
    RateLimitValues v{static_cast<std::uint64_t>(limit_per_day),
                      static_cast<std::uint64_t>(std::max(0.0, std::floor(limit_per_day - used))),
                      reset};
    if (used < limit_per_day) return LimitDecision::allow(v);
    char detail[160];
    std::snprintf(detail, sizeof detail,
                  "CPU quota exceeded: %g CPU-seconds per day (UTC), %.1f used", limit_per_day,
                  used);
    return LimitDecision::refuse(LimitKind::cpu_quota, reset, v, detail);
}

void CpuQuota::add(const std::string& subject, double cpu_seconds) {
    if (!(cpu_seconds > 0)) return;
    const auto today = utc_day(clock_());
    std::lock_guard lock(mu_);
    pending_[{subject, today}] += cpu_seconds;
}

double CpuQuota::used_today(const std::string& subject) {
    const auto today = utc_day(clock_());
    std::lock_guard lock(mu_);
    auto it = entries_.find(subject);
    double stored = it != entries_.end() && it->second.day == today ? it->second.stored : 0;
    return stored + pending_locked(subject, today);
}

store::Result<void> CpuQuota::sync() {
    const auto now = clock_();
    const auto today = utc_day(now);
    std::vector<store::CpuDelta> deltas;
    std::vector<std::string> active;
    {
        std::lock_guard lock(mu_);
        for (auto& [k, seconds] : pending_) {
            deltas.push_back({k.first, k.second, seconds});
            syncing_[k] += seconds;
        }
        pending_.clear();
        std::erase_if(entries_, [&](const auto& kv) {
            return now - kv.second.last_checked > options_.idle_after;
        });
        for (const auto& [subject, e] : entries_) active.push_back(subject);
    }
    auto fail = [&](const store::StoreError& e) {
        std::lock_guard lock(mu_);
        for (const auto& [k, seconds] : syncing_) pending_[k] += seconds;  // try again later
        syncing_.clear();
        degraded_ = "cpu quota: cannot sync with the store: " + e.render();
        if (auto n = log_throttle_.note()) {
            log::warn("cpu quota sync failed", {{"error", e.render()}, {"times", *n}});
        }
        return e;
    };
    if (!deltas.empty()) {
        auto added = repository_.add_cpu_usage(deltas);
        if (!added) return fail(added.error());
    }
    auto totals = active.empty() ? store::Result<std::map<std::string, double>>{}
                                 : repository_.cpu_usage(active, today);
    if (!totals) return fail(totals.error());
    std::lock_guard lock(mu_);
    degraded_.clear();
    syncing_.clear();
    for (const auto& subject : active) {
        auto it = entries_.find(subject);
        if (it == entries_.end()) continue;
        auto t = totals->find(subject);
        it->second.day = today;
        it->second.stored = t == totals->end() ? 0 : t->second;
    }
    return {};
}

std::string CpuQuota::degraded_reason() const {
    std::lock_guard lock(mu_);
    return degraded_;
}

}  // namespace sbx::auth
