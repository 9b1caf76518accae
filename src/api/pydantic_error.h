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

// A 422 lists at most this many errors (the first ones, in field order); validation_body says
// how many more there were. Beyond the cap no entry is built, so a body of millions of wrong
// values costs no more than one with a hundred.
inline constexpr std::size_t kMaxValidationErrors = 100;

// An entry's "input" echoes the offending value (as pydantic does) up to this many bytes of
// strings and keys (scalars count 8): beyond, strings are cut (on a character boundary) and
// arrays/objects keep their first elements, and the entry says "input_truncated": true.
inline constexpr std::size_t kMaxEchoedInputBytes = 64 * 1024;

// One entry of {"detail": [...]}: keys in pydantic's order type, loc, msg, input[, ctx], then
// ours: input_truncated (only when true).
struct FieldError {
    std::string type;                        // "missing", "string_type", "less_than_equal", ...
    boost::json::array loc;                  // ["body", "timeout"]
    std::string msg;                         // pydantic's exact English message
    boost::json::value input;                // the offending input (the whole body for "missing")
    std::optional<boost::json::object> ctx;  // {"le": 300}, {"error": "..."}
    bool input_truncated = false;            // input was over kMaxEchoedInputBytes
};

// The errors of one request: the first kMaxValidationErrors, and a count of the others.
class ErrorList {
   public:
    // true when the next error would only be counted: callers check it before building one.
    [[nodiscard]] bool full() const noexcept { return shown_.size() >= kMaxValidationErrors; }
    void add(FieldError e);
    void omit() noexcept { ++omitted_; }  // an error not built because the list is full
    [[nodiscard]] bool empty() const noexcept { return shown_.empty(); }
    [[nodiscard]] std::vector<FieldError>& shown() noexcept { return shown_; }
    [[nodiscard]] std::size_t omitted() const noexcept { return omitted_; }

   private:
    std::vector<FieldError> shown_;
    std::size_t omitted_ = 0;
};

// loc = ["body", parts...]
[[nodiscard]] boost::json::array body_loc(std::initializer_list<std::string_view> parts = {});

// The builders copy `input` (bounded, see kMaxEchoedInputBytes) with the default allocator, so
// the entry does not keep the parsed body's memory alive.
[[nodiscard]] FieldError missing(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError string_type(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError bool_type(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError int_type(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError int_parsing(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError int_from_float(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError greater_than_equal(boost::json::array loc, const boost::json::value& input,
                                            std::int64_t ge);
[[nodiscard]] FieldError less_than_equal(boost::json::array loc, const boost::json::value& input,
                                         std::int64_t le);
[[nodiscard]] FieldError dict_type(boost::json::array loc, const boost::json::value& input);
[[nodiscard]] FieldError model_attributes_type(const boost::json::value& input);
// The body was not JSON: its text (as a string input, invalid UTF-8 replaced), bounded.
[[nodiscard]] FieldError model_attributes_type(std::string_view body_text);
// Malformed JSON: loc ["body", position], input {}, ctx {"error": reason}.
[[nodiscard]] FieldError json_invalid(std::size_t position, std::string_view reason);

// {"detail": [ ... ]}, plus "errors_omitted": N when N > 0 errors were beyond the cap.
[[nodiscard]] boost::json::value validation_body(const std::vector<FieldError>& errors,
                                                 std::size_t omitted = 0);

}  // namespace sbx::api
