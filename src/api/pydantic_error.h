// Validation errors shaped exactly like FastAPI + pydantic v2 422 bodies.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbx::api {

// One entry of {"detail": [...]}: keys in pydantic's order type, loc, msg, input[, ctx].
struct FieldError {
    std::string type;                        // "missing", "string_type", "less_than_equal", ...
    boost::json::array loc;                  // ["body", "timeout"]
    std::string msg;                         // pydantic's exact English message
    boost::json::value input;                // the offending input (the whole body for "missing")
    std::optional<boost::json::object> ctx;  // {"le": 300}, {"error": "..."}
};

// loc = ["body", parts...]
[[nodiscard]] boost::json::array body_loc(std::initializer_list<std::string_view> parts = {});

[[nodiscard]] FieldError missing(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError string_type(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError bool_type(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError int_type(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError int_parsing(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError int_from_float(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError greater_than_equal(boost::json::array loc, boost::json::value input,
                                            std::int64_t ge);
[[nodiscard]] FieldError less_than_equal(boost::json::array loc, boost::json::value input,
                                         std::int64_t le);
[[nodiscard]] FieldError dict_type(boost::json::array loc, boost::json::value input);
[[nodiscard]] FieldError model_attributes_type(boost::json::value input);
// Malformed JSON: loc ["body", position], input {}, ctx {"error": reason}.
[[nodiscard]] FieldError json_invalid(std::size_t position, std::string_view reason);

// {"detail": [ ... ]}
[[nodiscard]] boost::json::value validation_body(const std::vector<FieldError>& errors);

}  // namespace sbx::api
