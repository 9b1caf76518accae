// CallbackSender: delivers finished jobs' callbacks: leases them from the store (any replica
// may deliver any job's), POSTs the job's view signed with its key's webhook secret (or
// WEBHOOK_SECRET for a job without a key), and records the outcome: delivered on 2xx; tried
// again after 1, 4, 16, 64 s on a connection error, a timeout, 408, 429 or 5xx; failed after
// kMaxCallbackTries tries, on another status, or when the address is refused.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <optional>

#include "jobs/callback_client.h"
#include "jobs/jobs_context.h"
#include "store/types.h"

namespace sbx::jobs {

inline constexpr std::int64_t kMaxCallbackTries = 5;
// Deliveries in flight per replica.
inline constexpr std::size_t kCallbacksAtOnce = 16;

// The wait before try `tries_done + 1`: 1 s x 4^(tries_done - 1).
[[nodiscard]] std::chrono::seconds callback_backoff(std::int64_t tries_done);

// What a delivery's result means for the job's callback.
struct CallbackVerdict {
    store::CallbackState state = store::CallbackState::failed;
    std::optional<std::string> error;  // nullopt when delivered
};
// `tries_done`: tries so far, this one included.
[[nodiscard]] CallbackVerdict judge_delivery(const DeliveryResult& r, std::int64_t tries_done);

class CallbackSender {
   public:
    explicit CallbackSender(JobsContext& ctx);
    CallbackSender(const CallbackSender&) = delete;
    CallbackSender& operator=(const CallbackSender&) = delete;

    void start();
    void stop();  // no new deliveries; those in flight end within CALLBACK_TIMEOUT
    void poke();  // a job finished here: look now
    [[nodiscard]] unsigned in_flight() const { return in_flight_.load(); }

   private:
    boost::asio::awaitable<void> loop();
    boost::asio::awaitable<void> deliver(store::JobRecord job);
    [[nodiscard]] std::optional<std::string> secret_for(const store::JobRecord& job);

    JobsContext& ctx_;
    CallbackClient client_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::steady_timer timer_;
    std::atomic<unsigned> in_flight_{0};
    std::atomic<bool> stopping_{false};
};

}  // namespace sbx::jobs
