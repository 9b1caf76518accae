// GET /, /health and /runtime bodies. None of them touches the engine beyond health().
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <string>

#include "pool/run_service.h"

namespace sbx::api {

// "2026-11-26T10:30:00.123456Z": UTC, microseconds, 'Z'.
[[nodiscard]] std::string utc_timestamp(std::chrono::system_clock::time_point t);

// {"message":"SimplePySandbox API","version":SBX_VERSION,"docs":"/docs","health":"/health"}
[[nodiscard]] boost::json::object root_body();

// {"status":"healthy"|"degraded","draining","timestamp",...,"reasons","layers","run_mode","runs","python"}
[[nodiscard]] boost::json::object health_body(const pool::HealthReport& report,
                                              std::chrono::system_clock::time_point now);

// {"python_version":"3.11.2","packages":{"numpy":"1.24.2",...},"run_mode":"zygote"}
[[nodiscard]] boost::json::object runtime_body(const pool::HealthReport& report);

}  // namespace sbx::api
