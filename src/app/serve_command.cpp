// serve: HTTP server + engine on an Asio thread pool, with graceful SIGTERM handling.
#include <malloc.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <thread>

#include "api/routes.h"
#include "app/commands.h"
#include "app/fd_limit.h"
#include "app/startup.h"
#include "app/store_services.h"
#include "http/server.h"
#include "log/log.h"
#include "pool/engine.h"

namespace sbx::app {
namespace asio = boost::asio;

namespace {

// SIGTERM/SIGINT: stop accepting, let runs finish for SHUTDOWN_GRACE, then kill them and exit.
asio::awaitable<void> shutdown_when_signalled(asio::io_context& io, http::Server& server,
                                              pool::Engine& engine, const config::Config& cfg) {
    asio::signal_set signals(io, SIGTERM, SIGINT);
    auto [ec, signo] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    log::info("shutting down", {{"signal", signo}, {"grace_s", cfg.shutdown_grace.count()}});
    server.stop();
    engine.close_admission();
    asio::steady_timer tick(io);
    const auto until = std::chrono::steady_clock::now() + cfg.shutdown_grace;
    while (engine.health().running > 0 && std::chrono::steady_clock::now() < until) {
        tick.expires_after(std::chrono::milliseconds(50));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    engine.stop();
    tick.expires_after(std::chrono::milliseconds(100));  // let killed runs report and clean up
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    io.stop();
}

// Gives memory freed after a busy period back to the system while nothing runs: glibc keeps
// freed chunks of its per-thread arenas mapped, so without this the server's RSS stays at its
// high-water mark (bench/soak checks it comes back after a busy period). malloc_trim walks the arenas,
// well under a millisecond for this heap; at most once per period, only when idle.
asio::awaitable<void> trim_memory_when_idle(asio::io_context& io, pool::Engine& engine) {
    asio::steady_timer tick(io);
    std::uint64_t last_busy = 0;
    std::uint64_t trimmed_at = 0;
    for (std::uint64_t round = 1;; ++round) {
        tick.expires_after(std::chrono::seconds(2));
        auto [ec] = co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || io.stopped()) co_return;
        const auto h = engine.health();
        if (h.running > 0 || h.queued > 0) {
            last_busy = round;
        } else if (trimmed_at < last_busy) {  // idle again after some work
            ::malloc_trim(0);
            trimmed_at = round;
        }
    }
}

// File descriptors the server needs besides its connections: each run holds about ten (run
// socket, output and end pipes, pidfd, work-dir fd, cgroup files), plus zygotes and logs.
constexpr rlim_t kFdsBesideConnections = 1024;

// The soft limit up to the hard one (after the spawner's fork: it and the runs keep theirs).
void raise_fd_limit(const config::Config& cfg) {
    auto limit = raise_nofile_soft_limit();
    if (!limit) {
        log::warn("cannot raise the open files limit", {{"error", limit.error().render()}});
        return;
    }
    log::info("open files limit", {{"soft", limit->soft}, {"hard", limit->hard}});
    if (limit->soft < cfg.max_connections + kFdsBesideConnections) {
        log::warn("MAX_CONNECTIONS may run out of file descriptors: raise the hard RLIMIT_NOFILE",
                  {{"max_connections", cfg.max_connections},
                   {"nofile", limit->soft},
                   {"wanted", cfg.max_connections + kFdsBesideConnections}});
    }
}

// At shutdown, history still queued is written for at most this long (then dropped, counted).
constexpr std::chrono::milliseconds kHistoryFlushDeadline{3000};

void log_spawn_failure(const char* what, const std::exception_ptr& e) {
    if (e) log::error(what, {{"error", log::describe(e)}});
}

}  // namespace

int serve_command(const config::Config& cfg) {
    asio::io_context io(static_cast<int>(cfg.http_threads));
    auto runtime = start_runtime(cfg, io.get_executor());
    if (!runtime) {
        for (const auto& m : runtime.error().missing) {
            log::error("isolation layer missing", {{"layer", m}});
        }
        log::error(runtime.error().message);
        return 1;
    }
    for (const auto& m : runtime->missing_layers) log::error("isolation layer missing", {{"layer", m}});
    pool::Engine& engine = *runtime->engine;
    raise_fd_limit(cfg);
    auto stored = start_store_services(cfg);
    if (!stored) {
        log::error("start-up failed: cannot open the store", {{"error", stored.error().render()}});
        return 1;
    }
    auto& backing = **stored;
    // One malloc arena for every thread (unless MALLOC_ARENA_MAX says otherwise): per-thread
    // arenas keep fragments of a busy period mapped that malloc_trim cannot return, so RSS
    // stayed ~20% above its start after a soak; one arena comes back to within 1% (bench/soak).
    // The threads here spend their time in syscalls, not malloc: contention is negligible.
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr) ::mallopt(M_ARENA_MAX, 1);
    backing.watch(engine);
    http::Server server(io, cfg, api::make_handler(engine, cfg, backing.backends()));
    auto port = server.start();
    if (!port) {
        log::error("cannot listen", {{"error", port.error().render()}});
        return 1;
    }
    asio::co_spawn(io, engine.start(), [](const std::exception_ptr& e) { log_spawn_failure("engine start failed", e); });
    asio::co_spawn(io, trim_memory_when_idle(io, engine),
                   [](const std::exception_ptr& e) { log_spawn_failure("memory trimmer failed", e); });
    asio::co_spawn(io, shutdown_when_signalled(io, server, engine, cfg),
                   [](const std::exception_ptr& e) { log_spawn_failure("signal handler failed", e); });
    std::vector<std::jthread> threads;
    for (unsigned i = 1; i < cfg.http_threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    threads.clear();
    backing.stop(kHistoryFlushDeadline);
    log::info("stopped");
    return 0;
}

}  // namespace sbx::app
