// JSON text as Python's json.dumps(ensure_ascii=False) writes it (floats like repr()).
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace sbx::api {

// Serializes compactly (no spaces, like Starlette's JSONResponse). Differs from
// boost::json::serialize only for doubles: 0.5 → "0.5" (not "5E-1"), 2.0 → "2.0",
// 1e-05 → "1e-05", 1e+16 → "1e+16" (Python's repr rules).
[[nodiscard]] std::string to_json_text(const boost::json::value& value);

// One double as Python's repr(float) writes it (finite values only).
[[nodiscard]] std::string python_float(double d);

}  // namespace sbx::api
