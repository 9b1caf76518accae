// JobsService: async jobs on this replica: the store it uses, the worker, the callback
// sender, the periodic removal of old finished jobs, and the routes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "http/router.h"
#include "jobs/callback_sender.h"
#include "jobs/job_worker.h"
#include "store/periodic.h"

namespace sbx::jobs {

class JobsService {
   public:
    // Jobs on `repository` (the server's store: DATABASE_URL, else SQLite in STATE_DIR; it
    // outlives this). Checks NETWORK_ALLOW: errors are rendered for the operator.
    [[nodiscard]] static std::unique_ptr<JobsService> create(boost::asio::io_context& io,
                                                             const config::Config& cfg,
                                                             pool::RunService& engine,
                                                             store::Repository& repository,
                                                             std::string* error);
    ~JobsService();
    JobsService(const JobsService&) = delete;
    JobsService& operator=(const JobsService&) = delete;

    void add_routes(http::Router& router);  // POST /jobs, GET /jobs/{id}
    void start();                           // worker, sender, retention
    // SIGTERM: no new jobs taken; those running go on (the engine's grace bounds them).
    void drain();
    // After drain, before the engine kills what still runs: jobs cut short are not stored as
    // done (they run again elsewhere); the sender and the retention stop.
    void stop();
    [[nodiscard]] unsigned jobs_in_flight() const { return worker_->in_flight(); }
    [[nodiscard]] const std::string& owner() const { return ctx_->owner; }

   private:
    JobsService() = default;

    std::unique_ptr<AddressPolicy> policy_;
    // The jobs' own blocking pool (store calls): joined by the destructor, so that no call of
    // theirs outlives the objects it refers to.
    boost::asio::thread_pool blocking_{2};
    std::unique_ptr<JobsContext> ctx_;
    std::unique_ptr<JobWorker> worker_;
    std::unique_ptr<CallbackSender> sender_;
    std::unique_ptr<store::PeriodicTask> retention_;
};

}  // namespace sbx::jobs
