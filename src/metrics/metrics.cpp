// Metrics: family definitions, updates and rendering.
#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "metrics/process_collector.h"

namespace sbx::metrics {

namespace prom = prometheus;

struct Metrics::Families {
    explicit Families(prom::Registry& r)
        : runs(prom::BuildCounter()
                   .Name("pysandbox_runs_total")
                   .Help("Runs ended, by response status and language.")
                   .Register(r)),
          run_duration(prom::BuildHistogram()
                           .Name("pysandbox_run_duration_seconds")
                           .Help("Wall time of runs from start to end, by language.")
                           .Register(r)),
          queue_wait(prom::BuildHistogram()
                         .Name("pysandbox_queue_wait_seconds")
                         .Help("Time requests waited for a run slot.")
                         .Register(r)),
          gauges(prom::BuildGauge()
                     .Name("pysandbox_runs")
                     .Help("Runs by state: running, queued (waiting for a slot), prepared "
                           "(sandboxes set up ahead).")
                     .Register(r)),
          sessions(prom::BuildGauge()
                       .Name("pysandbox_sessions_live")
                       .Help("Live sessions.")
                       .Register(r)),
          zygote_restarts(prom::BuildCounter()
                              .Name("pysandbox_zygote_restarts_total")
                              .Help("Zygotes replaced after they died or failed, by kind.")
                              .Register(r)),
          http(prom::BuildCounter()
                   .Name("pysandbox_http_requests_total")
                   .Help("HTTP requests answered, by route template, method and status code.")
                   .Register(r)),
          rate_limited(prom::BuildCounter()
                           .Name("pysandbox_rate_limited_total")
                           .Help("Requests refused with 429, by the limit that refused them.")
                           .Register(r)),
          history(prom::BuildCounter()
                      .Name("pysandbox_history_records_total")
                      .Help("Run history records, by outcome: written, or dropped (queue full "
                            "while the database was slow or down).")
                      .Register(r)),
          history_queue(prom::BuildGauge()
                            .Name("pysandbox_history_queue_records")
                            .Help("Run history records waiting to be written.")
                            .Register(r)) {}

    prom::Family<prom::Counter>& runs;
    prom::Family<prom::Histogram>& run_duration;
    prom::Family<prom::Histogram>& queue_wait;
    prom::Family<prom::Gauge>& gauges;
    prom::Family<prom::Gauge>& sessions;
    prom::Family<prom::Counter>& zygote_restarts;
    prom::Family<prom::Counter>& http;
    prom::Family<prom::Counter>& rate_limited;
    prom::Family<prom::Counter>& history;
    prom::Family<prom::Gauge>& history_queue;
};

namespace {

// Runs take from ~1 ms (print) to MAX_TIMEOUT (300 s by default).
const prom::Histogram::BucketBoundaries kRunBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
// Waits are 0 when a slot is free, up to QUEUE_TIMEOUT (30 s by default).
const prom::Histogram::BucketBoundaries kWaitBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25,
                                                        0.5,    1,     2.5,   5,    10,   30};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prom::Registry>()), f_(std::make_unique<Families>(*registry_)) {
    // Series that exist from the start, so that rate() sees their first increment.
    for (const char* state : {"running", "queued", "prepared"}) f_->gauges.Add({{"state", state}});
    f_->sessions.Add({});
    f_->queue_wait.Add({}, kWaitBuckets);
    for (const char* outcome : {"written", "dropped"}) f_->history.Add({{"outcome", outcome}});
    f_->history_queue.Add({});
}

Metrics::~Metrics() = default;

void Metrics::run_finished(std::string_view status, std::string_view language, double duration_s,
                           double queue_wait_s) {
    f_->runs.Add({{"status", std::string(status)}, {"language", std::string(language)}})
        .Increment();
    f_->run_duration.Add({{"language", std::string(language)}}, kRunBuckets).Observe(duration_s);
    f_->queue_wait.Add({}, kWaitBuckets).Observe(queue_wait_s);
}

void Metrics::http_request(std::string_view route, std::string_view method, unsigned code) {
    f_->http
        .Add({{"route", std::string(route)},
              {"method", std::string(method)},
              {"code", std::to_string(code)}})
        .Increment();
}

void Metrics::rate_limited(std::string_view limit) {
    f_->rate_limited.Add({{"limit", std::string(limit)}}).Increment();
}

void Metrics::zygote_restarted(std::string_view kind) {
    f_->zygote_restarts.Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::set_live_source(std::function<LiveState()> source) {
    std::lock_guard lock(live_mu_);
    live_ = std::move(source);
}

void Metrics::apply_live(const LiveState& s) {
    f_->gauges.Add({{"state", "running"}}).Set(s.runs_running);
    f_->gauges.Add({{"state", "queued"}}).Set(s.runs_queued);
    f_->gauges.Add({{"state", "prepared"}}).Set(s.runs_prepared);
    f_->sessions.Add({}).Set(s.sessions_live);
    f_->history_queue.Add({}).Set(static_cast<double>(s.history_queued));
    // The recorder keeps totals; counters move by what changed since the last scrape.
    if (s.history_written_total > history_written_seen_) {
        f_->history.Add({{"outcome", "written"}})
            .Increment(static_cast<double>(s.history_written_total - history_written_seen_));
        history_written_seen_ = s.history_written_total;
    }
    if (s.history_dropped_total > history_dropped_seen_) {
        f_->history.Add({{"outcome", "dropped"}})
            .Increment(static_cast<double>(s.history_dropped_total - history_dropped_seen_));
        history_dropped_seen_ = s.history_dropped_total;
    }
}

std::string Metrics::render() {
    {
        std::lock_guard lock(live_mu_);
        if (live_) apply_live(live_());
    }
    auto families = registry_->Collect();
    auto process = ProcessCollector().Collect();
    families.insert(families.end(), process.begin(), process.end());
    return prom::TextSerializer().Serialize(families);
}

}  // namespace sbx::metrics
