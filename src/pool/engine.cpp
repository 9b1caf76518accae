// Engine: one request's way from admission to outcome, and the health report.
#include "pool/engine.h"

#include <boost/asio/this_coro.hpp>

#include "log/log.h"

namespace sbx::pool {
namespace asio = boost::asio;
using sandbox::RunOutcome;
using sandbox::RunRequest;

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// True when `line` (an import statement) names module root `mod` as a whole word.
bool names_module(std::string_view line, std::string_view mod) {
    for (auto pos = line.find(mod); pos != std::string_view::npos; pos = line.find(mod, pos + 1)) {
        const bool start_ok = pos == 0 || !is_word_char(line[pos - 1]);
        const auto end = pos + mod.size();
        const bool end_ok = end == line.size() || !is_word_char(line[end]);
        if (start_ok && end_ok) return true;
    }
    return false;
}

Rejection rejection_of(auth::FairRefusal r) {
    switch (r) {
        case auth::FairRefusal::subject_limit: return Rejection::subject_limit;
        case auth::FairRefusal::queue_full: return Rejection::queue_full;
        case auth::FairRefusal::queue_timeout: return Rejection::queue_timeout;
        case auth::FairRefusal::shutting_down: return Rejection::shutting_down;
    }
    return Rejection::unavailable;
}

}  // namespace

ZygoteKind choose_zygote(std::string_view code, const std::vector<std::string>& preload) {
    while (!code.empty()) {
        auto nl = code.find('\n');
        auto line = code.substr(0, nl);
        code = nl == std::string_view::npos ? std::string_view{} : code.substr(nl + 1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (!line.starts_with("import ") && !line.starts_with("from ") && line.find("import") == std::string_view::npos) continue;
        for (const auto& mod : preload) {
            if (names_module(line, std::string_view(mod).substr(0, mod.find('.')))) return ZygoteKind::full;
        }
    }
    return ZygoteKind::lean;
}

Engine::Engine(asio::any_io_executor ex, const config::Config& cfg, const RunQuotas& quotas,
               ZygoteLauncher& launcher, RunGroupFactory& groups,
               std::vector<LayerStatus> isolation_layers, RunNetworkFactory* networks)
    : cfg_(cfg),
      groups_(groups),
      layers_(std::move(isolation_layers)),
      admission_(cfg.effective_max_concurrent_runs(), cfg.max_queued_runs,
                 std::chrono::duration_cast<std::chrono::milliseconds>(cfg.queue_timeout)),
      zygotes_(ex, launcher,
               ZygotePoolOptions{cfg.run_mode == config::RunMode::zygote ? cfg.zygotes : 0U,
                                 cfg.run_mode == config::RunMode::zygote, cfg.preload_modules}),
      driver_{sandbox::kPythonSandboxUid, cfg.sandbox_uid_base, quotas},
      runs_(ex, cfg, driver_, zygotes_, groups, networks) {
}

Engine::~Engine() { stop(); }

asio::awaitable<void> Engine::start() {
    if (cfg_.run_mode == config::RunMode::zygote) co_await zygotes_.start();
    runs_.start();
}

void Engine::close_admission() {
    stopped_.store(true);
    admission_.close();
}

void Engine::stop() {
    stopped_.store(true);
    admission_.close();
    runs_.stop();
    zygotes_.stop();
}

asio::awaitable<RunReply> Engine::run(RunRequest request) {
    RunReply reply;
    const auto queued_at = std::chrono::steady_clock::now();
    auto admitted = co_await admission_.acquire(request.subject, request.concurrency);
    if (admitted.refused) {
        reply.rejected = rejection_of(*admitted.refused);
        if (*admitted.refused == auth::FairRefusal::subject_limit) reply.limit = admitted.decision;
        co_return reply;
    }
    const auto t0 = std::chrono::steady_clock::now();
    reply.queue_wait = std::chrono::duration_cast<std::chrono::microseconds>(t0 - queued_at);
    reply.outcome = co_await run_admitted(request);
    const auto& o = reply.outcome;
    if (o.failure && o.failure->step == sys::Step::uid_pool) {  // capacity, not a run's failure
        log::warn("no run uid free", {{"req", request.request_id}, {"error", o.failure->render()}});
        reply.rejected = Rejection::no_run_uid;
        co_return reply;
    }
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    log::info("run finished", {{"req", request.request_id}, 
                               {"verdict", sandbox::to_string(o.verdict)},
                               {"exit_code", o.exit_code ? std::to_string(*o.exit_code) : "-"},
                               {"signal", o.signal ? std::to_string(*o.signal) : "-"},
                               {"ms", std::to_string(ms)},
                               {"failure", o.failure ? o.failure->render() : "-"}});
    co_return reply;
}

asio::awaitable<RunOutcome> Engine::run_admitted(const RunRequest& request) {
    const ZygoteKind kind = cfg_.run_mode == config::RunMode::cold
                                ? ZygoteKind::cold
                                : choose_zygote(request.code, cfg_.preload_modules);
    const bool network = request.network.value_or(cfg_.network_mode == config::NetworkMode::egress);
    auto prepared = co_await runs_.take(kind, network);
    if (!prepared) co_return failed_outcome(prepared.error());
    auto zygote = prepared->zygote;
    auto outcome = co_await execute_run(std::move(*prepared), request, cfg_, driver_);
    runs_.run_done(kind, network);  // its replacement is prepared after the answer is on its way
    if (zygote->kind() == ZygoteKind::cold) zygote->finish();
    co_return outcome;
}

HealthReport Engine::health() const {
    HealthReport h;
    h.layers = layers_;
    for (const auto& l : layers_) {
        if (!l.active) h.reasons.push_back(l.name + " inactive: " + l.detail);
    }
    const auto info = zygotes_.any_info();
    if (info && info->seccomp_instructions > 0) {
        for (auto& l : h.layers) {
            if (l.name == "seccomp") {
                l.detail += " (" + std::to_string(info->seccomp_instructions) + " instructions)";
            }
        }
    }
    h.run_mode = std::string(config::to_string(cfg_.run_mode));
    h.running = admission_.running();
    h.queued = admission_.queued();
    h.capacity = cfg_.effective_max_concurrent_runs();
    h.queue_capacity = cfg_.max_queued_runs;
    h.prepared = runs_.stocked();
    h.zygote_restarts = zygotes_.restarts();
    if (cfg_.run_mode == config::RunMode::zygote && zygotes_.ready_count() == 0) {
        h.reasons.emplace_back("no zygote ready (runs start cold)");
    }
    if (h.queue_capacity > 0 && h.queued >= h.queue_capacity) h.reasons.emplace_back("queue full");
    if (stopped_.load()) h.reasons.emplace_back("shutting down");
    if (info) {
        h.python_version = info->python_version;
        h.packages = info->packages;
    }
    h.healthy = h.reasons.empty();
    return h;
}

}  // namespace sbx::pool
