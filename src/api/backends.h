// Backends: the store, keys, limits and metrics the API's handlers use, each optional.
#pragma once

#include <boost/asio/any_io_executor.hpp>

namespace sbx::auth {
class KeyCache;
class RateLimiter;
class CpuQuota;
class SessionGauge;
}  // namespace sbx::auth
namespace sbx::store {
class Repository;
class HistoryRecorder;
class Retention;
}  // namespace sbx::store
namespace sbx::metrics {
class Metrics;
}  // namespace sbx::metrics

namespace sbx::api {

// Built by `serve` (app/store_services.*); all null in tests of the routes alone, which then
// behave as AUTH_MODE=none and HISTORY=off without /runs data. Everything pointed at outlives
// the router. Thread-safe objects: handlers call them from any I/O thread.
struct Backends {
    auth::KeyCache* keys = nullptr;             // AUTH_MODE=api_key: checks presented keys
    auth::RateLimiter* rate = nullptr;          // requests per second, per key or address
    auth::CpuQuota* cpu = nullptr;              // CPU-seconds per day, per key or address
    auth::SessionGauge* sessions = nullptr;     // live sessions per key (no sessions yet)
    store::Repository* repository = nullptr;    // /runs, /admin/keys (blocking: on `blocking`)
    store::HistoryRecorder* history = nullptr;  // HISTORY=metadata|full
    store::Retention* retention = nullptr;      // for /health
    metrics::Metrics* metrics = nullptr;        // GET /metrics and the counters
    boost::asio::any_io_executor blocking;      // the blocking-work pool for repository calls
};

}  // namespace sbx::api
