// JobWorker: takes queued jobs from the store (leases, renewed while they run), runs each
// through the engine as /execute would, and stores the result. At-least-once: a job whose
// replica died is taken again when its lease expires; only the holder of the current lease
// can store a result, so each job has exactly one.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "jobs/jobs_context.h"
#include "store/types.h"

namespace sbx::jobs {

class JobWorker {
   public:
    explicit JobWorker(JobsContext& ctx);
    JobWorker(const JobWorker&) = delete;
    JobWorker& operator=(const JobWorker&) = delete;

    void start();  // the lease loop, on the I/O threads
    // No new leases (SIGTERM); jobs in flight go on. Thread-safe.
    void drain();
    void poke();  // look for jobs now (one was just submitted here). Thread-safe.
    // The engine is about to kill what still runs (SHUTDOWN_GRACE is over): results of runs
    // that end from now on are not stored (they may be cut short); those jobs run again
    // elsewhere. Thread-safe.
    void abandon();
    [[nodiscard]] unsigned in_flight() const { return in_flight_.load(); }
    [[nodiscard]] bool stopped() const { return loop_done_.load(); }

   private:
    // How a job's attempt ended: a result to store (done or failed), or given back to the
    // queue (not started, or the lease was lost).
    struct Ending {
        std::string result;
        bool failed = false;
        bool give_back = false;
    };

    boost::asio::awaitable<void> loop();
    boost::asio::awaitable<void> run_job(store::JobRecord job);
    boost::asio::awaitable<Ending> execute(const store::JobRecord& job);
    boost::asio::awaitable<void> keep_lease(std::string id);  // returns when the lease is lost
    void job_ended(bool gave_back);

    JobsContext& ctx_;
    const unsigned workers_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;  // the loop and its timer
    boost::asio::steady_timer timer_;
    std::atomic<unsigned> in_flight_{0};
    std::atomic<bool> draining_{false};
    std::atomic<bool> loop_done_{false};
    std::atomic<bool> back_off_{false};
    std::atomic<bool> abandoned_{false};  // the engine refused a job: wait a poll period
};

}  // namespace sbx::jobs
