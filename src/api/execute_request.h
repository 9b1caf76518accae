// POST /execute input: pydantic-equivalent model validation (422) and service checks (400).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_error.h"
#include "config/config.h"
#include "sandbox/run_types.h"

namespace sbx::api {

// class ExecuteRequest(BaseModel): code: str; timeout: int = Field(SANDBOX_TIMEOUT, ge=1,
// le=MAX_TIMEOUT); files: Optional[Dict[str, str]] = {}   (+ network: Optional[bool])
struct ExecuteRequest {
    std::string code;
    std::int64_t timeout_s = 30;
    std::vector<std::pair<std::string, std::string>> files;  // name → base64, request order
    std::optional<bool> network;
};

// Validates a parsed JSON body like pydantic v2 in lax mode, reporting every error at once
// (422, see ErrorList for the cap). Unknown fields are ignored. Then, before any file is copied:
// `files` with more entries than the work directory holds (WORKDIR_MAX_FILES, with main.py)
// gets the 400 "Too many input files" that to_run_request would give after examining them all.
[[nodiscard]] ApiResult<ExecuteRequest> validate_execute_request(const boost::json::value& body,
                                                                 const config::Config& cfg);

// The original service's checks (400 {"detail": ...}): blank code, code longer than
// MAX_CODE_LENGTH code points, unsafe file names, invalid base64, files over MAX_FILE_SIZE.
// On success the request for the engine, files decoded.
[[nodiscard]] ApiResult<sandbox::RunRequest> to_run_request(ExecuteRequest request,
                                                            const config::Config& cfg,
                                                            std::string request_id);

// Whole pipeline for a request body: content type (`content_type` as sent, may be empty),
// JSON, model validation, service checks.
[[nodiscard]] ApiResult<sandbox::RunRequest> parse_execute_body(std::string_view content_type,
                                                                std::string_view body,
                                                                const config::Config& cfg,
                                                                std::string request_id);

}  // namespace sbx::api
