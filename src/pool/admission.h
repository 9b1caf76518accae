// Admission: at most N runs at once, at most Q waiting, each wait bounded (429 beyond).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>

#include "pool/run_service.h"

namespace sbx::pool {

class Admission;

// A run slot; its destructor gives the slot back (to the oldest waiter first).
class Permit {
public:
    Permit() = default;
    explicit Permit(Admission* owner) : owner_(owner) {}
    Permit(Permit&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)) {}
    Permit& operator=(Permit&& o) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();
    [[nodiscard]] bool valid() const { return owner_ != nullptr; }

private:
    Admission* owner_ = nullptr;
};

struct AdmissionResult {
    Permit permit;                      // valid when admitted
    std::optional<Rejection> rejected;  // set when not
};

// Thread-safe. Waiters are woken in arrival order.
class Admission {
public:
    Admission(unsigned capacity, unsigned queue_capacity, std::chrono::milliseconds queue_timeout);

    boost::asio::awaitable<AdmissionResult> acquire();
    void close();  // shutting down: waiters and new callers are rejected

    [[nodiscard]] unsigned running() const;
    [[nodiscard]] unsigned queued() const;
    [[nodiscard]] unsigned capacity() const { return capacity_; }
    [[nodiscard]] unsigned queue_capacity() const { return queue_capacity_; }

private:
    friend class Permit;
    struct Waiter {
        std::shared_ptr<boost::asio::steady_timer> timer;
        bool granted = false;
    };
    void release();

    const unsigned capacity_;
    const unsigned queue_capacity_;
    const std::chrono::milliseconds queue_timeout_;
    mutable std::mutex mu_;
    unsigned running_ = 0;
    bool closed_ = false;
    std::list<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace sbx::pool
