// FairAdmission: run slots for coroutines — at most N runs at once, per-subject concurrency
// limits (429 beyond), bounded and timed waits, and the next free slot given round-robin among
// subjects (FairScheduler). Meant to take pool::Admission's place when keys are on.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "auth/fair_scheduler.h"
#include "auth/limit_decision.h"

namespace sbx::auth {

class FairAdmission;

// A run slot; its destructor gives it back (to the next subject in the round).
class FairPermit {
   public:
    FairPermit() = default;
    FairPermit(FairAdmission* owner, std::string subject)
        : owner_(owner), subject_(std::move(subject)) {}
    FairPermit(FairPermit&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr)), subject_(std::move(o.subject_)) {}
    FairPermit& operator=(FairPermit&& o) noexcept;
    FairPermit(const FairPermit&) = delete;
    FairPermit& operator=(const FairPermit&) = delete;
    ~FairPermit();
    [[nodiscard]] bool valid() const { return owner_ != nullptr; }

   private:
    FairAdmission* owner_ = nullptr;
    std::string subject_;
};

enum class FairRefusal : std::uint8_t {
    subject_limit,  // the key's concurrency limit: 429 with `decision`
    queue_full,     // MAX_QUEUED_RUNS wait already: 429
    queue_timeout,  // waited QUEUE_TIMEOUT: 429
    shutting_down,  // close() was called: 503
};

struct FairResult {
    FairPermit permit;                   // valid when admitted
    std::optional<FairRefusal> refused;  // set when not
    LimitDecision decision;              // subject_limit: the 429's details and headers
};

// Thread-safe; must outlive its permits.
class FairAdmission {
   public:
    FairAdmission(unsigned capacity, unsigned queue_capacity,
                  std::chrono::milliseconds queue_timeout);

    // subject_limit: the subject's concurrency limit (0 = none). Cancelling the awaiting
    // coroutine (client gone) leaves the queue.
    boost::asio::awaitable<FairResult> acquire(std::string subject, unsigned subject_limit);
    void close();  // waiters and new callers are refused (shutting_down)

    [[nodiscard]] unsigned running() const;
    [[nodiscard]] unsigned queued() const;

   private:
    friend class FairPermit;
    struct Waiter {
        std::shared_ptr<boost::asio::steady_timer> timer;
        bool granted = false;
    };
    void release(const std::string& subject);

    const std::chrono::milliseconds queue_timeout_;
    mutable std::mutex mu_;
    FairScheduler scheduler_;
    bool closed_ = false;
    std::unordered_map<Ticket, std::shared_ptr<Waiter>> waiters_;
};

}  // namespace sbx::auth
