// Request body → JSON value, like Starlette's request.json() plus hostile-input limits.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "api/api_error.h"

namespace sbx::api {

inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses `body` (the whole request body, non-empty) like Python's json.loads(bytes): a leading
// UTF-8 BOM is skipped; a key repeated in one object keeps its first place and its last value.
// Errors:
// - invalid UTF-8 anywhere → 400 "There was an error parsing the body" (FastAPI's text for an
//   undecodable body); log_detail says "invalid UTF-8 at byte N" for the server log;
// - malformed JSON, nesting deeper than kMaxJsonDepth, a number out of double range → 422
//   json_invalid with loc ["body", character offset after any BOM] and the reason in ctx.error
//   ("Expecting value", "Extra data", "Number out of range", ...).
[[nodiscard]] ApiResult<boost::json::value> parse_json_body(std::string_view body);

}  // namespace sbx::api
