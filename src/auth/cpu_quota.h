// CpuQuota: CPU-seconds per subject per UTC day, counted by every replica into the store
// (cpu_usage) and checked from memory: runs add their CPU time after they end, a sync each
// second writes the additions and reads the totals of the subjects in use.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/limit_decision.h"
#include "log/throttle.h"
#include "store/periodic.h"
#include "store/repository.h"

namespace sbx::auth {

struct CpuQuotaOptions {
    std::chrono::milliseconds sync_interval{1000};
    // Subjects not checked for this long are no longer read back (nor kept in memory).
    std::chrono::seconds idle_after{600};
};

// Thread-safe. A subject may go over its quota by what its runs in progress use, and, with
// several replicas, by what the others added since the last sync (about a second's worth):
// the check is before a run, the CPU time is known after it.
class CpuQuota {
   public:
    using WallClock = std::function<std::chrono::system_clock::time_point()>;

    CpuQuota(store::Repository& repository, boost::asio::any_io_executor blocking,
             CpuQuotaOptions options = {}, WallClock clock = {});
    ~CpuQuota();
    CpuQuota(const CpuQuota&) = delete;
    CpuQuota& operator=(const CpuQuota&) = delete;

    void start();  // periodic sync on `blocking`
    void stop();   // stops it and writes what is pending (one last sync)

    // From memory; never blocks. limit_per_day 0: no limit (allowed, no headers).
    LimitDecision check(const std::string& subject, double limit_per_day);
    // A run's CPU time, once it ended.
    void add(const std::string& subject, double cpu_seconds);
    // Blocking: writes this replica's additions, reads the totals of subjects in use.
    store::Result<void> sync();

    [[nodiscard]] double used_today(const std::string& subject);
    [[nodiscard]] std::string degraded_reason() const;

    // "2026-12-06" for a time (UTC).
    static std::string utc_day(std::chrono::system_clock::time_point t);

   private:
    struct Entry {
        std::string day;
        double stored = 0;  // the store's total for `day` at the last sync
        std::chrono::system_clock::time_point last_checked;
    };
    Entry& entry_locked(const std::string& subject, const std::string& today);
    double pending_locked(const std::string& subject, const std::string& day) const;

    store::Repository& repository_;
    boost::asio::any_io_executor blocking_;
    const CpuQuotaOptions options_;
    const WallClock clock_;
    std::unique_ptr<store::PeriodicTask> syncer_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;
    using ByDay = std::map<std::pair<std::string, std::string>, double>;  // (subject, day) -> s
    ByDay pending_;                                                       // added, not yet written
    ByDay syncing_;                                                       // being written by sync()
    std::string degraded_;
    log::Throttle log_throttle_{std::chrono::seconds(10)};
};

}  // namespace sbx::auth
