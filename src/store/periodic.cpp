// PeriodicTask: a steady_timer on the given executor, re-armed after each run.
#include "store/periodic.h"

#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <mutex>

namespace sbx::store {

namespace asio = boost::asio;

struct PeriodicTask::State : std::enable_shared_from_this<State> {
    State(asio::any_io_executor ex, std::chrono::milliseconds every, std::function<void()> f)
        : timer(std::move(ex)), interval(every), fn(std::move(f)) {}

    void arm(std::chrono::milliseconds delay) {
        // Called with mu held.
        timer.expires_after(delay);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->fire();
        });
    }

    void fire() {
        {
            std::lock_guard lock(mu);
            if (stopped) return;
            running = true;
        }
        fn();
        std::lock_guard lock(mu);
        running = false;
        ++completed;
        cv.notify_all();
        if (!stopped) arm(interval);
    }

    asio::steady_timer timer;
    const std::chrono::milliseconds interval;
    const std::function<void()> fn;
    mutable std::mutex mu;
    std::condition_variable cv;
    bool stopped = false;
    bool running = false;
    std::uint64_t completed = 0;
};

PeriodicTask::PeriodicTask(asio::any_io_executor executor, std::chrono::milliseconds interval,
                           std::function<void()> fn)
    : state_(std::make_shared<State>(std::move(executor), interval, std::move(fn))) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start(std::chrono::milliseconds first_delay) {
    std::lock_guard lock(state_->mu);
    if (!state_->stopped) state_->arm(first_delay);
}

void PeriodicTask::stop() {
    std::unique_lock lock(state_->mu);
    state_->stopped = true;
    state_->timer.cancel();
    state_->cv.wait(lock, [&] { return !state_->running; });
}

std::uint64_t PeriodicTask::runs() const {
    std::lock_guard lock(state_->mu);
    return state_->completed;
}

}  // namespace sbx::store
