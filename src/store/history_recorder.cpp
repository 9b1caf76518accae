// HistoryRecorder: a bounded deque, one writer task at a time on the executor, retries with
// backoff while the database is down (the queue keeps the records: history catches up).
#include "store/history_recorder.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "log/log.h"
#include "log/throttle.h"

namespace sbx::store {

namespace asio = boost::asio;

struct HistoryRecorder::State : std::enable_shared_from_this<State> {
    State(Repository& r, asio::any_io_executor ex, RecorderOptions o)
        : repo(r), executor(ex), retry_timer(ex), options(o) {}

    void schedule_locked() {
        if (writing || stopped || queue.empty()) return;
        writing = true;
        asio::post(executor, [self = shared_from_this()] { self->write_batch(); });
    }

    std::vector<RunRecord> take_batch_locked() {
        const std::size_t n = std::min(options.batch_size, queue.size());
        std::vector<RunRecord> batch;
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            batch.push_back(std::move(queue.front()));
            queue.pop_front();
        }
        in_flight = n;
        return batch;
    }

    // A batch the database refused for a value in it: written one by one, the bad ones lost.
    std::uint64_t write_singly(const std::vector<RunRecord>& batch, Result<std::size_t>& last) {
        std::uint64_t rejected_now = 0;
        for (const auto& run : batch) {
            last = repo.insert_runs(std::span(&run, 1));
            if (!last && last.error().code == StoreErrc::invalid) {
                ++rejected_now;
                log::warn("history record refused",
                          {{"run", run.run_id}, {"error", last.error().render()}});
                last = std::size_t{0};
            } else if (!last) {
                break;
            }
        }
        return rejected_now;
    }

    void write_batch() {
        std::vector<RunRecord> batch;
        {
            std::lock_guard lock(mu);
            batch = take_batch_locked();
        }
        auto r = repo.insert_runs(batch);
        std::uint64_t rejected_now = 0;
        if (!r && r.error().code == StoreErrc::invalid) rejected_now = write_singly(batch, r);
        std::lock_guard lock(mu);
        in_flight = 0;
        rejected += rejected_now;
        if (r) {
            on_success_locked(batch.size() - rejected_now);
        } else {
            on_failure_locked(std::move(batch), r.error());
        }
        cv.notify_all();
    }

    void on_success_locked(std::size_t n) {
        written += n;
        if (degraded) log::info("history writes resumed", {{"waiting", queue.size()}});
        degraded = false;
        reason.clear();
        backoff = options.retry_min;
        writing = false;
        schedule_locked();
    }

    void on_failure_locked(std::vector<RunRecord> batch, const StoreError& e) {
        ++failed_writes;
        if (stopped) {  // stop() gave up on the queue already
            dropped += batch.size();
            writing = false;
            return;
        }
        // Back at the front, in order: nothing is lost while the queue holds.
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue.push_front(std::move(*it));
        degraded = true;
        reason = "history: cannot write runs: " + e.render();
        if (auto n = log_throttle.note()) {
            log::warn("history write failed",
                      {{"error", e.render()}, {"waiting", queue.size()}, {"times", *n}});
        }
        retry_timer.expires_after(backoff);
        backoff = std::min(backoff * 2, options.retry_max);
        retry_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec) return;
            std::lock_guard lock(self->mu);
            self->writing = false;
            self->schedule_locked();
        });
    }

    Repository& repo;
    asio::any_io_executor executor;
    asio::steady_timer retry_timer;  // used under mu
    const RecorderOptions options;
    log::Throttle log_throttle{std::chrono::seconds(10)};
    log::Throttle drop_throttle{std::chrono::seconds(10)};

    mutable std::mutex mu;
    std::condition_variable cv;
    std::deque<RunRecord> queue;
    std::size_t in_flight = 0;
    bool writing = false;  // a write is posted, running, or waiting for its retry
    bool stopped = false;
    bool degraded = false;
    std::string reason;
    std::chrono::milliseconds backoff = options.retry_min;
    std::uint64_t written = 0, dropped = 0, rejected = 0, failed_writes = 0;
};

namespace {

void truncate(std::optional<std::string>& text, std::size_t max) {
    if (text && text->size() > max) text->resize(max);
}

}  // namespace

HistoryRecorder::HistoryRecorder(Repository& repository, asio::any_io_executor executor,
                                 RecorderOptions options)
    : state_(std::make_shared<State>(repository, std::move(executor), options)) {}

HistoryRecorder::~HistoryRecorder() { stop(std::chrono::milliseconds(0)); }

bool HistoryRecorder::record(RunRecord run) {
    if (!state_->options.keep_text) {
        run.code.reset();
        run.stdout_text.reset();
        run.stderr_text.reset();
    } else {
        truncate(run.code, state_->options.max_text_bytes);
        truncate(run.stdout_text, state_->options.max_text_bytes);
        truncate(run.stderr_text, state_->options.max_text_bytes);
    }
    std::lock_guard lock(state_->mu);
    auto& s = *state_;
    if (s.stopped || s.queue.size() + s.in_flight >= s.options.queue_capacity) {
        ++s.dropped;
        if (auto n = s.drop_throttle.note()) {
            log::warn("history record dropped",
                      {{"reason", s.stopped ? "stopped" : "queue full"}, {"times", *n}});
        }
        return false;
    }
    s.queue.push_back(std::move(run));
    s.schedule_locked();
    return true;
}

RecorderStatus HistoryRecorder::status() const {
    std::lock_guard lock(state_->mu);
    const auto& s = *state_;
    return RecorderStatus{s.degraded,     s.reason,  s.queue.size() + s.in_flight,
                          s.written,      s.dropped, s.rejected,
                          s.failed_writes};
}

void HistoryRecorder::stop(std::chrono::milliseconds deadline) {
    auto& s = *state_;
    std::unique_lock lock(s.mu);
    s.cv.wait_for(lock, deadline, [&] { return s.queue.empty() && s.in_flight == 0; });
    s.stopped = true;
    s.retry_timer.cancel();
    s.dropped += s.queue.size();
    s.queue.clear();
    s.cv.wait(lock, [&] { return s.in_flight == 0; });
}

}  // namespace sbx::store
