// POST /jobs and GET /jobs/{id}: the HTTP side of async jobs.
#pragma once

#include <functional>

#include "http/router.h"
#include "jobs/jobs_context.h"

namespace sbx::jobs {

// POST /jobs → 202 {"job_id"} ({"job_id": batch id, "job_ids": [...]} for a batch); the jobs
// are stored before the answer. GET /jobs/{id} → 200 job_body or batch_body; 404 {"detail":
// "Job not found"} for an unknown id and for another caller's job (ctx.identity's key; jobs
// of callers without a key are visible only to callers without one). A store that cannot be
// reached → 503 + Retry-After. `submitted` is called after a POST stored its jobs (to wake the
// local worker). `ctx` outlives the router.
void add_job_routes(http::Router& router, JobsContext& ctx, std::function<void()> submitted);

}  // namespace sbx::jobs
