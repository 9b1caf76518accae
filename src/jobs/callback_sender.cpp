// CallbackSender: the delivery loop, one coroutine per delivery, the retry rule.
#include "jobs/callback_sender.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "jobs/blocking.h"
#include "jobs/job_view.h"
#include "jobs/signature.h"
#include "log/log.h"

namespace sbx::jobs {
namespace asio = boost::asio;

std::chrono::seconds callback_backoff(std::int64_t tries_done) {
    std::int64_t s = 1;
    for (std::int64_t i = 1; i < tries_done && s < 3600; ++i) s *= 4;
    return std::chrono::seconds(s);
}

CallbackVerdict judge_delivery(const DeliveryResult& r, std::int64_t tries_done) {
    if (r.status && *r.status >= 200 && *r.status < 300) {
        return {store::CallbackState::delivered, std::nullopt};
    }
    const bool retryable =
        r.status ? (*r.status >= 500 || *r.status == 408 || *r.status == 429) : !r.permanent;
    std::string error = r.status ? "receiver answered " + std::to_string(*r.status) : r.error;
    if (retryable && tries_done < kMaxCallbackTries) return {store::CallbackState::pending, error};
    if (retryable) error += " (gave up after " + std::to_string(tries_done) + " tries)";
    return {store::CallbackState::failed, error};
}

CallbackSender::CallbackSender(JobsContext& ctx)
    : ctx_(ctx),
      client_(ctx.policy, ctx.cfg.callback_timeout),
      strand_(asio::make_strand(ctx.io)),
      timer_(strand_) {}

void CallbackSender::start() {
    asio::co_spawn(strand_, loop(), [](const std::exception_ptr& e) {
        if (e) log::error("callback sender stopped", {{"error", log::describe(e)}});
    });
}

void CallbackSender::stop() {
    stopping_.store(true);
    poke();
}

void CallbackSender::poke() {
    asio::post(strand_, [this] { timer_.cancel(); });
}

asio::awaitable<void> CallbackSender::loop() {
    // A lease outlasts one delivery: a replica that dies mid-delivery leaves it to another.
    const auto lease_us =
        std::chrono::duration_cast<std::chrono::microseconds>(ctx_.cfg.callback_timeout * 2)
            .count() +
        5'000'000;
    while (!stopping_.load()) {
        const unsigned busy = in_flight_.load();
        const std::size_t free = busy < kCallbacksAtOnce ? kCallbacksAtOnce - busy : 0;
        std::size_t got = 0;
        if (free > 0) {
            auto leased = co_await on_pool(ctx_.blocking, [this, free, lease_us] {
                return ctx_.repository.lease_callbacks(ctx_.owner, free, lease_us, store::now_us());
            });
            if (!leased) log::warn("cannot lease callbacks", {{"error", leased.error().render()}});
            for (auto& job : leased ? *leased : std::vector<store::JobRecord>{}) {
                ++got;
                in_flight_.fetch_add(1);
                asio::co_spawn(asio::make_strand(ctx_.io), deliver(std::move(job)),
                               [](const std::exception_ptr& e) {
                                   if (e)
                                       log::error("callback failed", {{"error", log::describe(e)}});
                               });
            }
        }
        if (got > 0 && got == free) continue;
        timer_.expires_after(ctx_.cfg.jobs_poll);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

std::optional<std::string> CallbackSender::secret_for(const store::JobRecord& job) {
    if (!job.key_id) {
        if (ctx_.cfg.webhook_secret.empty()) return std::nullopt;
        return ctx_.cfg.webhook_secret;
    }
    auto secret = ctx_.repository.get_webhook_secret(*job.key_id);
    if (!secret) return std::nullopt;
    return *secret;
}

asio::awaitable<void> CallbackSender::deliver(store::JobRecord job) {
    DeliveryResult result;
    std::string reason;
    auto target = parse_callback_url(job.callback_url.value_or(""), &reason);
    auto secret = co_await on_pool(ctx_.blocking, [this, &job] { return secret_for(job); });
    if (!target) {
        result = {std::nullopt, "bad callback URL: " + reason, true};
    } else if (!secret) {
        result = {std::nullopt, "no webhook secret for the job's key", true};
    } else {
        std::string body = boost::json::serialize(job_body(job));
        std::string signature = sign_body(*secret, body);
        result = co_await client_.post(*target, std::move(body), std::move(signature), job.id);
    }
    const auto tries = job.callback_attempts + 1;
    const auto verdict = judge_delivery(result, tries);
    const auto now = store::now_us();
    std::optional<store::TimeUs> retry;
    if (verdict.state == store::CallbackState::pending) {
        retry =
            now +
            std::chrono::duration_cast<std::chrono::microseconds>(callback_backoff(tries)).count();
    }
    auto recorded = co_await on_pool(ctx_.blocking, [&] {
        return ctx_.repository.record_callback(job.id, ctx_.owner, verdict.state, retry,
                                               verdict.error, now);
    });
    if (!recorded)
        log::warn("callback outcome not stored",
                  {{"job", job.id}, {"error", recorded.error().render()}});
    log::info("callback", {{"job", job.id},
                           {"try", tries},
                           {"state", std::string(to_string(verdict.state))},
                           {"error", verdict.error.value_or("-")}});
    in_flight_.fetch_sub(1);
}

}  // namespace sbx::jobs
