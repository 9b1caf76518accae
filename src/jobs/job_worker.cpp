// JobWorker: lease loop, one coroutine per job (run || keep the lease), result stored.
#include "jobs/job_worker.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "api/execute_request.h"
#include "api/run_response.h"
#include "jobs/blocking.h"
#include "jobs/job_view.h"
#include "log/log.h"

namespace sbx::jobs {
namespace asio = boost::asio;
namespace {

std::int64_t lease_us(const config::Config& cfg) {
    return std::chrono::duration_cast<std::chrono::microseconds>(cfg.jobs_lease).count();
}

// A stored body that no longer passes (the settings changed since it was accepted).
std::string refusal_text(const api::ApiError& e) {
    if (e.kind != api::ApiErrorKind::validation) return e.detail;
    std::string out = "invalid request:";
    for (const auto& f : e.errors) out += " " + f.msg + ";";
    return out;
}

}  // namespace

JobWorker::JobWorker(JobsContext& ctx)
    : ctx_(ctx),
      workers_(ctx.cfg.effective_jobs_workers()),
      strand_(asio::make_strand(ctx.io)),
      timer_(strand_) {}

void JobWorker::start() {
    asio::co_spawn(strand_, loop(), [this](const std::exception_ptr& e) {
        loop_done_.store(true);
        if (e) log::error("job worker stopped", {{"error", log::describe(e)}});
    });
}

void JobWorker::drain() {
    draining_.store(true);
    poke();
}

void JobWorker::abandon() {
    abandoned_.store(true);
    drain();
}

void JobWorker::poke() {
    asio::post(strand_, [this] { timer_.cancel(); });
}

asio::awaitable<void> JobWorker::loop() {
    while (!draining_.load()) {
        const unsigned busy = in_flight_.load();
        const std::size_t free = busy < workers_ ? workers_ - busy : 0;
        std::size_t got = 0;
        if (free > 0 && !back_off_.exchange(false)) {
            auto leased = co_await on_pool(ctx_.blocking, [this, free] {
                return ctx_.repository.lease_jobs(ctx_.owner, free, lease_us(ctx_.cfg),
                                                  store::now_us());
            });
            if (!leased) {
                log::warn("cannot lease jobs", {{"error", leased.error().render()}});
            } else {
                got = leased->size();
                for (auto& job : *leased) {
                    in_flight_.fetch_add(1);
                    asio::co_spawn(asio::make_strand(ctx_.io), run_job(std::move(job)),
                                   [](const std::exception_ptr& e) {
                                       if (e)
                                           log::error("job failed", {{"error", log::describe(e)}});
                                   });
                }
            }
        }
        if (got > 0 && got == free) continue;  // there may be more: look again at once
        timer_.expires_after(ctx_.cfg.jobs_poll);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void JobWorker::job_ended(bool gave_back) {
    in_flight_.fetch_sub(1);
    if (gave_back) {
        back_off_.store(true);
    } else {
        poke();  // a slot is free
    }
}

asio::awaitable<void> JobWorker::run_job(store::JobRecord job) {
    using asio::experimental::awaitable_operators::operator||;
    Ending end;
    if (job.attempts > static_cast<std::int64_t>(ctx_.cfg.jobs_max_attempts)) {
        end = Ending{
            failed_result(std::nullopt, "gave up after " + std::to_string(job.attempts - 1) +
                                            " attempts: the replica running it stopped each time"),
            true};
    } else {
        auto first = co_await (execute(job) || keep_lease(job.id));
        end = first.index() == 0 ? std::get<0>(std::move(first)) : Ending{{}, false, true};
    }
    const bool gave_back = end.give_back;
    auto stored = co_await on_pool(ctx_.blocking, [&]() -> store::Result<bool> {
        if (gave_back) return ctx_.repository.release_job(job.id, ctx_.owner, store::now_us());
        return ctx_.repository.finish_job(
            job.id, ctx_.owner, end.failed ? store::JobState::failed : store::JobState::done,
            end.result, store::now_us());
    });
    if (!stored) {
        log::warn("job result not stored", {{"job", job.id}, {"error", stored.error().render()}});
    } else if (!*stored) {
        log::warn("job lease lost: another replica runs it", {{"job", job.id}});
    }
    job_ended(gave_back);
}

asio::awaitable<JobWorker::Ending> JobWorker::execute(const store::JobRecord& job) {
    const auto started = store::now_us();
    const std::string req_id = job.id + "." + std::to_string(job.attempts);
    boost::system::error_code ec;
    auto body = boost::json::parse(job.request, ec);
    if (ec) co_return Ending{failed_result(started, "stored request is not JSON"), true};
    auto request = api::validate_execute_request(body, ctx_.cfg);
    if (!request) co_return Ending{failed_result(started, refusal_text(request.error())), true};
    auto run = api::to_run_request(std::move(*request), ctx_.cfg, req_id);
    if (!run) co_return Ending{failed_result(started, refusal_text(run.error())), true};
    api::ResponseContext limits{run->timeout.count(), ctx_.cfg.memory_limit_bytes,
                                ctx_.cfg.max_output_bytes};
    pool::RunReply reply = co_await ctx_.engine.run(std::move(*run));
    if (abandoned_.load()) {
        log::info("job cut short by shutdown: left to another replica", {{"job", job.id}});
        co_return Ending{{}, false, true};
    }
    if (reply.rejected) {
        log::info("job not started: no run slot", {{"job", job.id}, {"req", req_id}});
        co_return Ending{{}, false, true};
    }
    log::info("job ran", {{"job", job.id},
                          {"req", req_id},
                          {"attempt", job.attempts},
                          {"verdict", sandbox::to_string(reply.outcome.verdict)}});
    co_return Ending{done_result(started, api::run_response_body(reply.outcome, limits)), false};
}

// Renews the lease every third of its length; returns (cancelling the run) if it was lost:
// another replica has the job then, and only its result can be stored.
asio::awaitable<void> JobWorker::keep_lease(std::string id) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        timer.expires_after(ctx_.cfg.jobs_lease / 3);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;  // cancelled: the run ended first
        auto renewed = co_await on_pool(ctx_.blocking, [this, &id] {
            return ctx_.repository.renew_job_lease(id, ctx_.owner,
                                                   store::now_us() + lease_us(ctx_.cfg));
        });
        if (renewed && !*renewed) {
            log::warn("job lease lost while running: run stopped", {{"job", id}});
            co_return;
        }
        if (!renewed)
            log::warn("job lease not renewed", {{"job", id}, {"error", renewed.error().render()}});
    }
}

}  // namespace sbx::jobs
