// What keys, limits, history and metrics add to one request, measured per operation against an
// empty operation in the same run: the numbers behind issue 16's latency targets before the
// HTTP wiring exists. Usage: bench_request_path STATE_DIR [DATABASE_URL]
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "auth/key_cache.h"
#include "auth/key_format.h"
#include "auth/rate_limiter.h"
#include "metrics/metrics.h"
#include "store/history_recorder.h"
#include "store/open.h"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// Median and p99 of `rounds` timings of `batch` calls each, in microseconds per call.
void measure(const char* name, int rounds, int batch, const std::function<void()>& op) {
    std::vector<double> per_call;
    for (int r = 0; r < rounds; ++r) {
        auto t0 = Clock::now();
        for (int i = 0; i < batch; ++i) op();
        per_call.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
                           batch);
    }
    std::sort(per_call.begin(), per_call.end());
    std::printf("%-44s p50 %9.3f us   p99 %9.3f us\n", name, per_call[per_call.size() / 2],
                per_call[per_call.size() * 99 / 100]);
}

template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> task) {
    auto f = asio::co_spawn(io, std::move(task), asio::use_future);
    io.restart();
    io.run();
    return f.get();
}

void bench_store(const char* engine, sbx::store::StoreOptions options) {
    auto opened = sbx::store::open_store(options);
    if (!opened) {
        std::fprintf(stderr, "%s: %s\n", engine, opened.error().render().c_str());
        return;
    }
    auto& repo = *opened->repository;
    asio::thread_pool pool(2);
    asio::io_context io;
    auto key = sbx::auth::generate_key();
    sbx::store::KeyRecord rec;
    rec.id = key.id;
    rec.name = "bench";
    rec.key_hash = key.hash;
    (void)repo.create_key(rec);
    sbx::auth::KeyCache cache(repo, pool.get_executor());
    (void)cache.start();
    std::printf("-- %s\n", engine);
    measure("baseline: an empty coroutine round trip", 50, 200,
            [&] { run_on(io, []() -> asio::awaitable<int> { co_return 0; }()); });
    measure("key check (cached, coroutine)", 50, 200,
            [&] { run_on(io, cache.authenticate(key.text)); });
    if (opened->database->dialect() == sbx::store::Dialect::postgres) {
        sbx::auth::RateLimiter shared(repo, pool.get_executor());
        int n = 0;
        // A fast key takes 0.1 s worth of tokens per round trip; a slow key (5/s) takes one
        // per request, so each of its requests pays a round trip.
        measure("shared rate limit, fast key (1e6/s)", 20, 200, [&] {
            run_on(io, shared.acquire("key:fast", {1e6, 1e6}));
        });
        measure("shared rate limit, 5/s key (one take each)", 20, 50, [&] {
            run_on(io, shared.acquire("key:slow" + std::to_string(++n), {5, 20}));
        });
    }
    sbx::store::HistoryRecorder recorder(repo, pool.get_executor(), {});
    int id = 0;
    sbx::store::RunRecord run;
    run.status = "success";
    measure("history record() (queue push)", 50, 200, [&] {
        run.run_id = "bench-" + std::to_string(++id);
        recorder.record(run);
    });
    recorder.stop(std::chrono::seconds(30));
    std::printf("   history: %llu written, %llu dropped\n",
                static_cast<unsigned long long>(recorder.status().written),
                static_cast<unsigned long long>(recorder.status().dropped));
    cache.stop();
    pool.join();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_request_path STATE_DIR [DATABASE_URL]\n");
        return 2;
    }
    sbx::auth::RateLimiter local;
    measure("baseline: empty function", 50, 10000, [] {});
    auto key = sbx::auth::generate_key();
    measure("sha256 of a key", 50, 10000, [&] { (void)sbx::auth::sha256(key.text); });
    int n = 0;
    measure("local rate limit (token bucket)", 50, 10000, [&] {
        (void)local.acquire_local("key:" + std::to_string(++n % 1000), {1e9, 1e9});
    });
    sbx::metrics::Metrics m;
    measure("metrics: run_finished + http_request", 50, 10000, [&] {
        m.run_finished("success", "python", 0.002, 0.0001);
        m.http_request("/execute", "POST", 200);
    });
    measure("metrics: render()", 20, 20, [&] { (void)m.render(); });
    sbx::store::StoreOptions sqlite;
    sqlite.state_dir = argv[1];
    bench_store("sqlite", sqlite);
    if (argc > 2) {
        sbx::store::StoreOptions pg;
        pg.database_url = argv[2];
        bench_store("postgresql", pg);
    }
    return 0;
}
