// StoreServices: building the store-backed parts in order, and stopping them in reverse.
#include "app/store_services.h"

#include <map>

#include "log/log.h"

namespace sbx::app {

namespace {

store::RecorderOptions recorder_options(const config::Config& cfg) {
    store::RecorderOptions o;
    o.queue_capacity = cfg.history_queue;
    o.keep_text = cfg.history == config::HistoryMode::full;
    o.max_text_bytes = cfg.history_full_max_bytes;
    return o;
}

bool needs_keys(const config::Config& cfg) {
    return cfg.auth_mode == config::AuthMode::api_key ||
           cfg.metrics_auth != config::MetricsAuth::none;
}

}  // namespace

store::Result<std::unique_ptr<StoreServices>> start_store_services(const config::Config& cfg) {
    auto s = std::make_unique<StoreServices>();
    auto opened = store::open_store({cfg.state_dir, cfg.database_url, cfg.database_connections});
    if (!opened) return opened.error();
    s->store = std::move(*opened);
    auto& repo = *s->store.repository;
    auto ex = s->blocking.get_executor();
    log::info("store",
              {{"engine", cfg.database_url.empty() ? "sqlite" : "postgresql"},
               {"where", cfg.database_url.empty() ? (cfg.state_dir / store::kSqliteFile).string()
                                                  : std::string("DATABASE_URL")},
               {"schema_version", s->store.schema_version},
               {"history", config::to_string(cfg.history)}});
    if (needs_keys(cfg)) {
        s->keys = std::make_unique<auth::KeyCache>(repo, ex);
        if (auto started = s->keys->start(); !started) return started.error();
        log::info("api keys",
                  {{"auth_mode", cfg.auth_mode == config::AuthMode::api_key ? "api_key" : "none"},
                   {"keys", s->keys->status().keys}});
    }
    // Several replicas share PostgreSQL: their buckets too. SQLite means one machine.
    s->rate = cfg.database_url.empty() ? std::make_unique<auth::RateLimiter>()
                                       : std::make_unique<auth::RateLimiter>(repo, ex);
    s->cpu = std::make_unique<auth::CpuQuota>(repo, ex);
    s->cpu->start();
    if (cfg.history != config::HistoryMode::off) {
        s->history = std::make_unique<store::HistoryRecorder>(repo, ex, recorder_options(cfg));
    }
    s->retention = std::make_unique<store::Retention>(
        repo, ex, store::RetentionSettings{cfg.history_retention_days, cfg.history_max_rows});
    s->retention->start();
    return s;
}

api::Backends StoreServices::backends() {
    api::Backends b;
    b.keys = keys.get();
    b.rate = rate.get();
    b.cpu = cpu.get();
    b.sessions = &sessions;
    b.repository = store.repository.get();
    b.history = history.get();
    b.retention = retention.get();
    b.metrics = &metrics;
    b.blocking = blocking.get_executor();
    return b;
}

void StoreServices::watch(const pool::RunService& service) {
    // Zygote restarts come as totals per kind; the counter moves by what changed.
    auto seen = std::make_shared<std::map<std::string, std::uint64_t>>();
    metrics.set_live_source([this, &service, seen] {
        const auto h = service.health();
        metrics::LiveState s;
        s.runs_running = h.running;
        s.runs_queued = h.queued;
        s.runs_prepared = h.prepared;
        s.sessions_live = static_cast<unsigned>(sessions.total());
        for (const auto& [kind, total] : h.zygote_restarts) {
            for (auto& n = (*seen)[kind]; n < total; ++n) metrics.zygote_restarted(kind);
        }
        if (history) {
            const auto st = history->status();
            s.history_queued = st.queued;
            s.history_written_total = st.written;
            s.history_dropped_total = st.dropped + st.rejected;
        }
        return s;
    });
}

void StoreServices::stop(std::chrono::milliseconds deadline) {
    if (history) history->stop(deadline);
    if (cpu) cpu->stop();
    if (retention) retention->stop();
    if (keys) keys->stop();
}

StoreServices::~StoreServices() {
    stop(std::chrono::milliseconds(0));
    blocking.join();
}

}  // namespace sbx::app
