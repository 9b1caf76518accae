// ApiError: why a request was refused; one switch maps it to HTTP status and JSON body.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "api/pydantic_error.h"
#include "http/message.h"

namespace sbx::api {

enum class ApiErrorKind : std::uint8_t {
    validation,     // 422 {"detail": [pydantic errors]}
    bad_request,    // 400 {"detail": "..."}: service checks (empty code, file names, base64, ...)
    queue_full,     // 429 + Retry-After: no run slot and the queue is full
    queue_timeout,  // 429 + Retry-After: waited QUEUE_TIMEOUT for a slot
    shutting_down,  // 503 + Retry-After
    unavailable,    // 503 + Retry-After: isolation missing, degraded mode not allowed
};

struct ApiError {
    ApiErrorKind kind = ApiErrorKind::bad_request;
    std::string detail;              // for every kind but validation
    std::vector<FieldError> errors;  // for validation: at most kMaxValidationErrors
    std::string log_detail;  // for the server log only, never sent ("invalid UTF-8 at byte 9")
    std::size_t errors_omitted = 0;  // for validation: errors beyond `errors`
};

template <class T>
using ApiResult = boost::system::result<T, ApiError>;

[[nodiscard]] ApiError validation_error(std::vector<FieldError> errors);
[[nodiscard]] ApiError validation_error(ErrorList errors);
[[nodiscard]] ApiError bad_request(std::string detail);

// The HTTP answer for `e` (status, Retry-After where it applies, JSON body).
[[nodiscard]] http::Response to_response(const ApiError& e);

// Called by ApiResult<T>::value() on an error: throws std::runtime_error(detail).
[[noreturn]] void throw_exception_from_error(const ApiError& e, const boost::source_location& loc);

}  // namespace sbx::api
