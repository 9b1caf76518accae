// FairAdmission: FairScheduler under a mutex, waiters parked on timers.
#include "auth/fair_admission.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sbx::auth {

namespace asio = boost::asio;

FairPermit& FairPermit::operator=(FairPermit&& o) noexcept {
    if (this != &o) {
        if (owner_ != nullptr) owner_->release(subject_);
        owner_ = std::exchange(o.owner_, nullptr);
        subject_ = std::move(o.subject_);
    }
    return *this;
}

FairPermit::~FairPermit() {
    if (owner_ != nullptr) owner_->release(subject_);
}

FairAdmission::FairAdmission(unsigned capacity, unsigned queue_capacity,
                             std::chrono::milliseconds queue_timeout)
    : queue_timeout_(queue_timeout), scheduler_(capacity, queue_capacity) {}

unsigned FairAdmission::running() const {
    std::lock_guard lock(mu_);
    return scheduler_.running();
}

unsigned FairAdmission::queued() const {
    std::lock_guard lock(mu_);
    return scheduler_.queued();
}

asio::awaitable<FairResult> FairAdmission::acquire(std::string subject, unsigned subject_limit) {
    auto waiter = std::make_shared<Waiter>();
    Ticket ticket = 0;
    {
        std::lock_guard lock(mu_);
        if (closed_) co_return FairResult{{}, FairRefusal::shutting_down, {}};
        auto entered = scheduler_.enter(subject, subject_limit);
        switch (entered.outcome) {
            case FairScheduler::Outcome::granted:
                co_return FairResult{FairPermit(this, subject), std::nullopt, {}};
            case FairScheduler::Outcome::key_busy:
                co_return FairResult{
                    {},
                    FairRefusal::subject_limit,
                    LimitDecision::refuse(
                        LimitKind::concurrency, 1, RateLimitValues{subject_limit, 0, 1},
                        "Concurrency limit exceeded: " + std::to_string(subject_limit) +
                            " runs at once")};
            case FairScheduler::Outcome::queue_full:
                co_return FairResult{{}, FairRefusal::queue_full, {}};
            case FairScheduler::Outcome::queued:
                break;
        }
        ticket = entered.ticket;
        waiter->timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                             queue_timeout_);
        waiters_.emplace(ticket, waiter);
    }
    // Woken by release() (cancel), the queue timeout (expiry), close(), or the caller's
    // cancellation (client gone).
    co_await waiter->timer->async_wait(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(mu_);
    waiters_.erase(ticket);
    if (waiter->granted) co_return FairResult{FairPermit(this, subject), std::nullopt, {}};
    scheduler_.cancel(ticket);
    co_return FairResult{{}, closed_ ? FairRefusal::shutting_down : FairRefusal::queue_timeout, {}};
}

void FairAdmission::release(const std::string& subject) {
    std::lock_guard lock(mu_);
    auto next = scheduler_.release(subject);
    if (!next) return;
    auto it = waiters_.find(*next);
    if (it == waiters_.end()) return;  // cannot happen: a queued ticket always has its waiter
    it->second->granted = true;
    it->second->timer->cancel();
}

void FairAdmission::close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& [t, w] : waiters_) w->timer->cancel();
}

}  // namespace sbx::auth
