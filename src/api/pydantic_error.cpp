// Builders for the pydantic v2 error entries FastAPI returns with status 422.
#include "api/pydantic_error.h"

namespace sbx::api {
namespace json = boost::json;

namespace {

FieldError make(std::string type, json::array loc, std::string msg, json::value input) {
    return FieldError{std::move(type), std::move(loc), std::move(msg), std::move(input),
                      std::nullopt};
}

}  // namespace

json::array body_loc(std::initializer_list<std::string_view> parts) {
    json::array loc{"body"};
    for (auto p : parts) loc.emplace_back(json::string_view(p.data(), p.size()));
    return loc;
}

FieldError missing(json::array loc, json::value input) {
    return make("missing", std::move(loc), "Field required", std::move(input));
}

FieldError string_type(json::array loc, json::value input) {
    return make("string_type", std::move(loc), "Input should be a valid string", std::move(input));
}

FieldError bool_type(json::array loc, json::value input) {
    return make("bool_type", std::move(loc), "Input should be a valid boolean", std::move(input));
}

FieldError int_type(json::array loc, json::value input) {
    return make("int_type", std::move(loc), "Input should be a valid integer", std::move(input));
}

FieldError int_parsing(json::array loc, json::value input) {
    return make("int_parsing", std::move(loc),
                "Input should be a valid integer, unable to parse string as an integer",
                std::move(input));
}

FieldError int_from_float(json::array loc, json::value input) {
    return make("int_from_float", std::move(loc),
                "Input should be a valid integer, got a number with a fractional part",
                std::move(input));
}

FieldError greater_than_equal(json::array loc, json::value input, std::int64_t ge) {
    auto e =
        make("greater_than_equal", std::move(loc),
             "Input should be greater than or equal to " + std::to_string(ge), std::move(input));
    e.ctx = json::object{{"ge", ge}};
    return e;
}

FieldError less_than_equal(json::array loc, json::value input, std::int64_t le) {
    auto e = make("less_than_equal", std::move(loc),
                  "Input should be less than or equal to " + std::to_string(le), std::move(input));
    e.ctx = json::object{{"le", le}};
    return e;
}

FieldError dict_type(json::array loc, json::value input) {
    return make("dict_type", std::move(loc), "Input should be a valid dictionary",
                std::move(input));
}

FieldError model_attributes_type(json::value input) {
    return make("model_attributes_type", body_loc(),
                "Input should be a valid dictionary or object to extract fields from",
                std::move(input));
}

FieldError json_invalid(std::size_t position, std::string_view reason) {
    json::array loc{"body", position};
    auto e = make("json_invalid", std::move(loc), "JSON decode error", json::object{});
    e.ctx = json::object{{"error", json::string_view(reason.data(), reason.size())}};
    return e;
}

json::value validation_body(const std::vector<FieldError>& errors) {
    json::array detail;
    for (const FieldError& e : errors) {
        json::object o;
        o["type"] = e.type;
        o["loc"] = e.loc;
        o["msg"] = e.msg;
        o["input"] = e.input;
        if (e.ctx) o["ctx"] = *e.ctx;
        detail.push_back(std::move(o));
    }
    return json::object{{"detail", std::move(detail)}};
}

}  // namespace sbx::api
