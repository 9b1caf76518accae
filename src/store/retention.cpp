// Retention: the policy from the settings, one prune per pass, totals for the status.
#include "store/retention.h"

#include <ctime>

#include "log/log.h"

namespace sbx::store {

using std::chrono::system_clock;

namespace {

TimeUs to_us(system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}


}  // namespace

Retention::Retention(Repository& repository, boost::asio::any_io_executor blocking,
                     RetentionSettings settings, WallClock clock)
    : repository_(repository),
      blocking_(std::move(blocking)),
      settings_(settings),
      clock_(clock ? std::move(clock) : [] { return system_clock::now(); }) {}

Retention::~Retention() { stop(); }

void Retention::start() {
    task_ =
        std::make_unique<PeriodicTask>(blocking_, settings_.interval, [this] { (void)run_once(); });
    task_->start();
}

void Retention::stop() {
    if (task_) task_->stop();
}

RetentionPolicy Retention::policy_at(system_clock::time_point now) const {
    RetentionPolicy p;
    if (settings_.days > 0) {
        const auto cutoff = to_us(now - std::chrono::hours(24) * settings_.days);
        p.runs_before = cutoff;
        p.jobs_before = cutoff;
    }
    if (settings_.max_rows > 0) p.max_rows = static_cast<std::int64_t>(settings_.max_rows);
    // CPU quotas count today only; yesterday is kept for a day that just turned.
    p.usage_before_day = utc_day(now - std::chrono::hours(24));
    p.buckets_idle_before = to_us(now - std::chrono::hours(1));
    return p;
}

Result<PruneResult> Retention::run_once() {
    auto r = repository_.prune(policy_at(clock_()));
    std::lock_guard lock(mu_);
    ++status_.passes;
    if (!r) {
        status_.last_error = r.error().render();
        log::warn("retention failed", {{"error", status_.last_error}});
        return r;
    }
    status_.last_error.clear();
    status_.removed.runs += r->runs;
    status_.removed.jobs += r->jobs;
    status_.removed.usage_rows += r->usage_rows;
    if (r->runs + r->jobs > 0) {
        log::info("retention", {{"runs_removed", r->runs}, {"jobs_removed", r->jobs}});
    }
    return r;
}

RetentionStatus Retention::status() const {
    std::lock_guard lock(mu_);
    return status_;
}

}  // namespace sbx::store
