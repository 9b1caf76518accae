// StoreServices: the store and what lives on it for `serve` — the blocking-work pool, the key
// cache, rate limits, CPU quota, session gauge, history recorder, retention and metrics — built
// at start-up, handed to the API as api::Backends, and stopped (history flushed) at shutdown.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "api/backends.h"
#include "auth/cpu_quota.h"
#include "auth/key_cache.h"
#include "auth/rate_limiter.h"
#include "auth/session_gauge.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "pool/run_service.h"
#include "store/history_recorder.h"
#include "store/open.h"
#include "store/retention.h"

namespace sbx::app {

struct StoreServices {
    boost::asio::thread_pool blocking{2};  // the one pool for blocking work (database calls)
    store::Store store;
    std::unique_ptr<auth::KeyCache> keys;  // AUTH_MODE=api_key or METRICS_AUTH != none
    std::unique_ptr<auth::RateLimiter> rate;
    std::unique_ptr<auth::CpuQuota> cpu;
    auth::SessionGauge sessions;                      // ready for sessions (none exist yet)
    std::unique_ptr<store::HistoryRecorder> history;  // HISTORY != off
    std::unique_ptr<store::Retention> retention;
    metrics::Metrics metrics;

    ~StoreServices();
    [[nodiscard]] api::Backends backends();
    // The gauges of /metrics read from `service` (running, queued, prepared, zygote restarts)
    // and from the recorder and sessions here. `service` must outlive this object.
    void watch(const pool::RunService& service);
    // Writes the history still queued (for at most `deadline`) and the CPU usage, then stops
    // the periodic tasks.
    void stop(std::chrono::milliseconds deadline);
};

// Opens the store (SQLite in STATE_DIR, or PostgreSQL at DATABASE_URL; migrated) and starts
// the rest. Errors say which database and what is wrong (a corrupted or read-only SQLite file,
// an unreachable server): the server does not start without its store.
[[nodiscard]] store::Result<std::unique_ptr<StoreServices>> start_store_services(
    const config::Config& cfg);

}  // namespace sbx::app
