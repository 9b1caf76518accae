// What GET /jobs/{id} and callbacks show of jobs: one job, or a batch of them; and the result
// a worker stores.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <span>
#include <string>

#include "store/types.h"

namespace sbx::jobs {

// The stored result of a finished job (JSON text in the jobs row): when its last attempt
// started, and the /execute-shaped response (done) or why it failed (failed).
[[nodiscard]] std::string done_result(store::TimeUs started_us,
                                      const boost::json::object& response);
[[nodiscard]] std::string failed_result(std::optional<store::TimeUs> started_us,
                                        const std::string& error);

// {"job_id","state","attempts","created_at","started_at","finished_at"[,"batch_id",
//  "batch_index"][,"results":[response]][,"error"][,"callback":{...}]}. started_at is the
// start of the attempt that counts (null while queued); results only when done.
[[nodiscard]] boost::json::object job_body(const store::JobRecord& job);

// A batch (its jobs in batch_index order, not empty): {"job_id": batch id, "state",
// "attempts" (the most any entry took), "created_at", "started_at" (the first entry's),
// "finished_at" (the last entry's, once all finished), "size", "counts": {state: n},
// "jobs": [{"job_id","state","attempts"}], "results": [response or null] once all finished}.
// state: queued (all queued), done (all done), failed (all finished, one or more failed),
// else running.
[[nodiscard]] boost::json::object batch_body(std::span<const store::JobRecord> jobs);

}  // namespace sbx::jobs
