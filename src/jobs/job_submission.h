// POST /jobs bodies: one /execute body, or {"batch": [bodies...]}, with an optional
// "callback_url"; each body validated exactly as POST /execute validates it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "config/config.h"
#include "jobs/callback_target.h"

namespace sbx::jobs {

struct Submission {
    bool batch = false;               // {"batch": [...]}: the answer names the batch
    std::vector<std::string> bodies;  // each an /execute body as JSON text, in order
    std::optional<std::string> callback_url;
};

// Errors, as /execute gives them: 422 {"detail": [...]} for the model (a batch entry's errors
// have loc ["body", "batch", i, ...]), 400 {"detail": "..."} for the service checks (a batch
// entry's detail starts with "batch[i]: "). "batch" must be a list of 1..JOBS_MAX_BATCH
// entries (422 list_type, too_short, too_long). "callback_url" must be an http(s) URL (422
// value_error); an IP literal the address policy refuses is a 422 too (names are checked at
// delivery, when they are resolved).
[[nodiscard]] api::ApiResult<Submission> parse_submission(std::string_view content_type,
                                                          std::string_view body,
                                                          const config::Config& cfg,
                                                          const AddressPolicy& policy);

}  // namespace sbx::jobs
