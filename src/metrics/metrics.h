// Metrics: the service's Prometheus families (prometheus-cpp core) and their text rendering for
// GET /metrics. No HTTP server of its own: the route serves render().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace sbx::metrics {

// Gauges read at each scrape from the live objects (pool, sessions, recorder).
struct LiveState {
    unsigned runs_running = 0;
    unsigned runs_queued = 0;
    unsigned runs_prepared = 0;
    unsigned sessions_live = 0;
    std::uint64_t history_queued = 0;
    std::uint64_t history_written_total = 0;  // monotonic totals, turned into counters
    std::uint64_t history_dropped_total = 0;
};

// Thread-safe: counters and histograms may be updated from any thread while render() runs.
class Metrics {
   public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // A run ended: status as in the response ("success", "timeout", ...), its language,
    // wall time from start to end, and the time it waited for a run slot.
    void run_finished(std::string_view status, std::string_view language, double duration_s,
                      double queue_wait_s);
    // A request was answered. route: the route template ("/sessions/{id}/execute"; "other" for
    // unknown paths, so that scanners cannot grow the label set).
    void http_request(std::string_view route, std::string_view method, unsigned code);
    // A request was refused with 429: limit = auth::to_string(LimitKind) or "queue".
    void rate_limited(std::string_view limit);
    // A zygote was replaced (kind: "lean", "full", ...).
    void zygote_restarted(std::string_view kind);

    // Called at the start of each render() to read the gauges above.
    void set_live_source(std::function<LiveState()> source);

    // The text exposition format (version 0.0.4), with process_* metrics of this process.
    [[nodiscard]] std::string render();

    // The Content-Type of render()'s text.
    static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

   private:
    struct Families;
    void apply_live(const LiveState& s);

    std::shared_ptr<prometheus::Registry> registry_;
    std::unique_ptr<Families> f_;
    std::mutex live_mu_;
    std::function<LiveState()> live_;
    std::uint64_t history_written_seen_ = 0;
    std::uint64_t history_dropped_seen_ = 0;
};

}  // namespace sbx::metrics
