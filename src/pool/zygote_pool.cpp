// ZygotePool: start, watch, replace and pick zygotes.
#include "pool/zygote_pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "log/log.h"

namespace sbx::pool {
namespace asio = boost::asio;
using sys::Result;

ZygotePool::ZygotePool(asio::any_io_executor ex, ZygoteLauncher& launcher, ZygotePoolOptions opts)
    : ex_(std::move(ex)), launcher_(launcher), opts_(std::move(opts)) {
    for (unsigned i = 0; i < opts_.full_zygotes; ++i) {
        slots_.push_back(Slot{ZygoteSpec{ZygoteKind::full, opts_.preload}, nullptr});
    }
    if (opts_.lean_zygote) slots_.push_back(Slot{ZygoteSpec{ZygoteKind::lean, {}}, nullptr});
}

ZygotePool::~ZygotePool() {
    stop();
    blocking_.join();
}

asio::awaitable<Result<std::shared_ptr<Zygote>>> ZygotePool::launch(const ZygoteSpec& spec) {
    const auto t0 = std::chrono::steady_clock::now();
    co_await asio::post(blocking_.get_executor(), asio::use_awaitable);
    auto proc = launcher_.launch(spec);
    co_await asio::post(ex_, asio::use_awaitable);
    if (!proc) co_return proc.error();
    auto z = std::make_shared<Zygote>(ex_, spec.kind, std::move(*proc));
    auto ready = co_await z->wait_ready(opts_.ready_timeout);
    if (!ready) {
        z->kill();
        co_return ready.error();
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    log::write(spec.kind == ZygoteKind::cold ? log::Level::debug : log::Level::info, "zygote ready",
               {{"kind", to_string(spec.kind)}, {"pid", z->pid()}, {"ms", ms.count()},
                {"preloaded", z->info().preloaded.size()}, {"failed", z->info().failed.size()}});
    for (const auto& [mod, err] : z->info().failed) {
        log::warn("zygote preload failed", {{"module", mod}, {"error", err}});
    }
    co_return z;
}

asio::awaitable<void> ZygotePool::keep_alive(std::size_t index) {
    const ZygoteSpec spec = slots_[index].spec;
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (stopped_) co_return;
        }
        auto z = co_await launch(spec);
        if (!z) {
            log::error("zygote start failed", {{"kind", to_string(spec.kind)}, {"error", z.error().render()}});
        } else {
            {
                std::lock_guard lock(mu_);
                if (stopped_) {
                    (*z)->kill();
                    co_return;
                }
                slots_[index].zygote = *z;
            }
            co_await (*z)->watch();  // returns when the zygote is gone
            std::lock_guard lock(mu_);
            slots_[index].zygote.reset();
            if (stopped_) co_return;
            ++restarts_[std::string(to_string(spec.kind))];
            log::warn("zygote died; replacing it", {{"kind", to_string(spec.kind)}});
        }
        asio::steady_timer pause(ex_, opts_.respawn_delay);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

std::map<std::string, std::uint64_t> ZygotePool::restarts() const {
    std::lock_guard lock(mu_);
    return restarts_;
}

asio::awaitable<void> ZygotePool::start() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        asio::co_spawn(ex_, keep_alive(i), [](const std::exception_ptr& e) {
            if (e) log::error("zygote keeper ended by an exception");
        });
    }
    // Wait (bounded) until every slot has a zygote or the ready timeout passed.
    asio::steady_timer tick(ex_);
    const auto until = std::chrono::steady_clock::now() + opts_.ready_timeout;
    while (ready_count() < slots_.size() && std::chrono::steady_clock::now() < until) {
        tick.expires_after(std::chrono::milliseconds(20));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<Result<std::shared_ptr<Zygote>>> ZygotePool::acquire(ZygoteKind wanted) {
    {
        std::lock_guard lock(mu_);
        std::shared_ptr<Zygote> fallback;
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            auto& slot = slots_[(next_ + i) % slots_.size()];
            if (!slot.zygote || !slot.zygote->alive()) continue;
            if (slot.spec.kind == wanted) {
                next_ = (next_ + i + 1) % slots_.size();
                co_return slot.zygote;
            }
            if (!fallback || wanted == ZygoteKind::full) fallback = slot.zygote;
        }
        // Lean code runs fine in a full zygote. Full code in a lean zygote pays its imports,
        // which is still cheaper than waiting for a restart.
        if (fallback) co_return fallback;
    }
    co_return co_await start_cold();
}

asio::awaitable<Result<std::shared_ptr<Zygote>>> ZygotePool::start_cold() {
    auto z = co_await launch(ZygoteSpec{ZygoteKind::cold, {}});
    if (!z) co_return z.error();
    asio::co_spawn(ex_, [zy = *z]() -> asio::awaitable<void> { co_await zy->watch(); },
                   [](const std::exception_ptr&) {});
    co_return z;
}

void ZygotePool::stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& slot : slots_) {
        if (slot.zygote) slot.zygote->kill();
    }
}

unsigned ZygotePool::ready_count() const {
    std::lock_guard lock(mu_);
    unsigned n = 0;
    for (const auto& slot : slots_) n += (slot.zygote && slot.zygote->alive()) ? 1U : 0U;
    return n;
}

std::optional<ZygoteInfo> ZygotePool::any_info() const {
    std::lock_guard lock(mu_);
    for (const auto& slot : slots_) {
        if (slot.zygote && slot.spec.kind == ZygoteKind::full) return slot.zygote->info();
    }
    for (const auto& slot : slots_) {
        if (slot.zygote) return slot.zygote->info();
    }
    return std::nullopt;
}

}  // namespace sbx::pool
