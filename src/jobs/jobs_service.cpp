// JobsService: building the jobs subsystem from the config, and its start and stop.
#include "jobs/jobs_service.h"

#include "jobs/job_routes.h"
#include "jobs/signature.h"
#include "log/log.h"

namespace sbx::jobs {

std::unique_ptr<JobsService> JobsService::create(boost::asio::io_context& io,
                                                 const config::Config& cfg,
                                                 pool::RunService& engine,
                                                 store::Repository& repository,
                                                 std::string* error) {
    std::unique_ptr<JobsService> s(new JobsService());
    auto policy = AddressPolicy::from_config(cfg.network_allow, error);
    if (!policy) return nullptr;
    s->policy_ = std::make_unique<AddressPolicy>(std::move(*policy));
    const std::string owner = cfg.effective_replica_id() + "/" + new_job_id("");
    s->ctx_ = std::unique_ptr<JobsContext>(
        new JobsContext{cfg, repository, engine, io.get_executor(),
                        s->blocking_.get_executor(), *s->policy_, owner});
    s->worker_ = std::make_unique<JobWorker>(*s->ctx_);
    s->sender_ = std::make_unique<CallbackSender>(*s->ctx_);
    log::info("jobs", {{"owner", owner},
                       {"workers", cfg.effective_jobs_workers()},
                       {"store", cfg.database_url.empty() ? "sqlite" : "postgresql"}});
    return s;
}

JobsService::~JobsService() {
    stop();
    blocking_.join();
}

void JobsService::add_routes(http::Router& router) {
    add_job_routes(router, *ctx_, [this] { worker_->poke(); });
}

void JobsService::start() {
    worker_->start();
    sender_->start();
    if (ctx_->cfg.jobs_retention_hours == 0) return;
    const auto keep = std::chrono::hours(ctx_->cfg.jobs_retention_hours);
    retention_ = std::make_unique<store::PeriodicTask>(
        blocking_.get_executor(), std::chrono::minutes(10), [this, keep] {
            store::RetentionPolicy p;
            p.jobs_before = store::now_us() -
                            std::chrono::duration_cast<std::chrono::microseconds>(keep).count();
            auto pruned = ctx_->repository.prune(p);
            if (!pruned) log::warn("old jobs not removed", {{"error", pruned.error().render()}});
        });
    retention_->start(std::chrono::seconds(30));
}

void JobsService::drain() { worker_->drain(); }

void JobsService::stop() {
    worker_->abandon();
    sender_->stop();
    if (retention_) retention_->stop();
}

}  // namespace sbx::jobs
