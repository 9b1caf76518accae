// The one mapping from ApiError to status code, headers and the original service's JSON shapes.
#include "api/api_error.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

#include "api/json_text.h"

namespace sbx::api {

namespace bhttp = boost::beast::http;

ApiError validation_error(std::vector<FieldError> errors) {
    return ApiError{ApiErrorKind::validation, {}, std::move(errors), {}};
}

ApiError validation_error(ErrorList errors) {
    return ApiError{ApiErrorKind::validation, {}, std::move(errors.shown()), {}, errors.omitted()};
}

ApiError bad_request(std::string detail) {
    return ApiError{ApiErrorKind::bad_request, std::move(detail), {}, {}};
}

namespace {

http::Response detail_json(bhttp::status status, const std::string& detail) {
    boost::json::value body = boost::json::object{{"detail", detail}};
    return http::json_response(status, to_json_text(body));
}

http::Response with_retry_after(http::Response res, int seconds) {
    res.set(bhttp::field::retry_after, std::to_string(seconds));
    return res;
}

}  // namespace

http::Response to_response(const ApiError& e) {
    switch (e.kind) {
        case ApiErrorKind::validation:
            return http::json_response(bhttp::status::unprocessable_entity,
                                       to_json_text(validation_body(e.errors, e.errors_omitted)));
        case ApiErrorKind::bad_request:
            return detail_json(bhttp::status::bad_request, e.detail);
        case ApiErrorKind::queue_full:
            return with_retry_after(detail_json(bhttp::status::too_many_requests, e.detail), 1);
        case ApiErrorKind::queue_timeout:
            return with_retry_after(detail_json(bhttp::status::too_many_requests, e.detail), 5);
        case ApiErrorKind::shutting_down:
            return with_retry_after(detail_json(bhttp::status::service_unavailable, e.detail), 10);
        case ApiErrorKind::unavailable:
            return with_retry_after(detail_json(bhttp::status::service_unavailable, e.detail), 30);
    }
    return detail_json(bhttp::status::internal_server_error, "Internal server error");
}

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
    throw std::runtime_error("api error: " + e.detail);
}

}  // namespace sbx::api
