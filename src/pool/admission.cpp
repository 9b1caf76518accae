// Admission: a counting semaphore with a bounded FIFO of timed waiters.
#include "pool/admission.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sbx::pool {
namespace asio = boost::asio;

Permit& Permit::operator=(Permit&& o) noexcept {
    if (this != &o) {
        if (owner_ != nullptr) owner_->release();
        owner_ = std::exchange(o.owner_, nullptr);
    }
    return *this;
}

Permit::~Permit() {
    if (owner_ != nullptr) owner_->release();
}

Admission::Admission(unsigned capacity, unsigned queue_capacity,
                     std::chrono::milliseconds queue_timeout)
    : capacity_(capacity), queue_capacity_(queue_capacity), queue_timeout_(queue_timeout) {}

unsigned Admission::running() const {
    std::lock_guard lock(mu_);
    return running_;
}

unsigned Admission::queued() const {
    std::lock_guard lock(mu_);
    return static_cast<unsigned>(waiters_.size());
}

asio::awaitable<AdmissionResult> Admission::acquire() {
    auto waiter = std::make_shared<Waiter>();
    {
        std::lock_guard lock(mu_);
        if (closed_) co_return AdmissionResult{{}, Rejection::shutting_down};
        if (running_ < capacity_ && waiters_.empty()) {
            ++running_;
            co_return AdmissionResult{Permit{this}, std::nullopt};
        }
        if (waiters_.size() >= queue_capacity_) co_return AdmissionResult{{}, Rejection::queue_full};
        waiter->timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                             queue_timeout_);
        waiters_.push_back(waiter);
    }
    // Woken by release() (cancel) or by the queue timeout (expiry); cancellation of the caller
    // (client gone) also ends the wait.
    co_await waiter->timer->async_wait(asio::as_tuple(asio::use_awaitable));
    std::lock_guard lock(mu_);
    if (waiter->granted) co_return AdmissionResult{Permit{this}, std::nullopt};
    waiters_.remove(waiter);
    co_return AdmissionResult{{}, closed_ ? Rejection::shutting_down : Rejection::queue_timeout};
}

void Admission::release() {
    std::lock_guard lock(mu_);
    if (!waiters_.empty() && !closed_) {
        auto next = waiters_.front();
        waiters_.pop_front();
        next->granted = true;  // the slot passes straight to the waiter: running_ unchanged
        next->timer->cancel();
        return;
    }
    --running_;
}

void Admission::close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (auto& w : waiters_) w->timer->cancel();
}

}  // namespace sbx::pool
