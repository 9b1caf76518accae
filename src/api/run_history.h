// Run history: run ids, the record of a finished run (HISTORY), and a record as JSON (/runs).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>

#include "api/backends.h"
#include "auth/identity.h"
#include "config/config.h"
#include "pool/run_service.h"
#include "sandbox/run_types.h"
#include "store/types.h"

namespace sbx::api {

// "run_" + 22 base64url characters (128 random bits from the OS's CSPRNG): unguessable, safe in
// a URL path segment.
[[nodiscard]] std::string new_run_id();

// What the record keeps of a request (taken before the request goes to the engine).
struct RunInput {
    std::int64_t code_bytes = 0;
    std::int64_t input_bytes = 0;     // input files, decoded
    std::optional<std::string> code;  // HISTORY=full: storable (truncated, UTF-8, no NUL)
};
[[nodiscard]] RunInput run_input(const sandbox::RunRequest& request, const config::Config& cfg);

// What is known of a run when its answer is sent.
struct RunFacts {
    std::string run_id;
    const auth::Identity* who = nullptr;
    const RunInput* input = nullptr;
    const pool::RunReply* reply = nullptr;
    std::chrono::system_clock::time_point started;  // when the request came in
    std::string_view status;                        // the response's "status"
};

// Queues the run's record (HISTORY=metadata|full; nothing with off or without a recorder) and
// counts it in the metrics. Never waits for the database.
void record_run(const Backends& backends, const config::Config& cfg, const RunFacts& facts);

// {"run_id","key_id","session_id","language","started_at","duration","queue_wait","status",
//  "exit_code","signal","cpu_time","memory_peak","code_bytes","input_bytes","stdout_bytes",
//  "stderr_bytes","output_files","output_files_bytes"} (+ "code","stdout","stderr" when kept).
[[nodiscard]] boost::json::object run_json(const store::RunRecord& run);

}  // namespace sbx::api
