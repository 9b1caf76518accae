// Builders for the pydantic v2 error entries FastAPI returns with status 422.
#include "api/pydantic_error.h"

#include "api/utf8.h"

namespace sbx::api {
namespace json = boost::json;

namespace {

constexpr std::size_t kScalarEchoBytes = 8;

// The longest prefix of `s` of at most `n` bytes that ends on a character boundary.
std::string_view utf8_prefix(std::string_view s, std::size_t n) {
    if (n >= s.size()) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0U) == 0x80U) --n;
    return s.substr(0, n);
}

// A copy of `v` with the default allocator, spending `left` bytes of echo; sets `cut` when
// something was left out.
json::value echo(const json::value& v, std::size_t& left, bool& cut) {
    switch (v.kind()) {
        case json::kind::string: {
            std::string_view s(v.get_string().data(), v.get_string().size());
            auto kept = utf8_prefix(s, left);
            if (kept.size() < s.size()) cut = true;
            left -= kept.size();
            return json::string(kept);
        }
        case json::kind::array: {
            json::array out;
            for (const auto& e : v.get_array()) {
                if (left == 0) {
                    cut = true;
                    break;
                }
                out.push_back(echo(e, left, cut));
            }
            return out;
        }
        case json::kind::object: {
            json::object out;
            for (const auto& kv : v.get_object()) {
                if (left < kv.key().size() + 1) {
                    cut = true;
                    break;
                }
                left -= kv.key().size();
                out[kv.key()] = echo(kv.value(), left, cut);
            }
            return out;
        }
        case json::kind::null:
        case json::kind::bool_:
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
            break;
    }
    left -= std::min(left, kScalarEchoBytes);
    return json::value(v, json::storage_ptr());
}

FieldError make(std::string type, json::array loc, std::string msg, const json::value& input) {
    std::size_t left = kMaxEchoedInputBytes;
    bool cut = false;
    json::value echoed = echo(input, left, cut);
    return FieldError{std::move(type),   std::move(loc), std::move(msg),
                      std::move(echoed), std::nullopt,   cut};
}

}  // namespace

void ErrorList::add(FieldError e) {
    if (full()) {
        ++omitted_;
        return;
    }
    shown_.push_back(std::move(e));
}

json::array body_loc(std::initializer_list<std::string_view> parts) {
    json::array loc{"body"};
    for (auto p : parts) loc.emplace_back(json::string_view(p.data(), p.size()));
    return loc;
}

FieldError missing(json::array loc, const json::value& input) {
    return make("missing", std::move(loc), "Field required", input);
}

FieldError string_type(json::array loc, const json::value& input) {
    return make("string_type", std::move(loc), "Input should be a valid string", input);
}

FieldError bool_type(json::array loc, const json::value& input) {
    return make("bool_type", std::move(loc), "Input should be a valid boolean", input);
}

FieldError int_type(json::array loc, const json::value& input) {
    return make("int_type", std::move(loc), "Input should be a valid integer", input);
}

FieldError int_parsing(json::array loc, const json::value& input) {
    return make("int_parsing", std::move(loc),
                "Input should be a valid integer, unable to parse string as an integer", input);
}

FieldError int_from_float(json::array loc, const json::value& input) {
    return make("int_from_float", std::move(loc),
                "Input should be a valid integer, got a number with a fractional part", input);
}

FieldError greater_than_equal(json::array loc, const json::value& input, std::int64_t ge) {
    auto e = make("greater_than_equal", std::move(loc),
                  "Input should be greater than or equal to " + std::to_string(ge), input);
    e.ctx = json::object{{"ge", ge}};
    return e;
}

FieldError less_than_equal(json::array loc, const json::value& input, std::int64_t le) {
    auto e = make("less_than_equal", std::move(loc),
                  "Input should be less than or equal to " + std::to_string(le), input);
    e.ctx = json::object{{"le", le}};
    return e;
}

FieldError dict_type(json::array loc, const json::value& input) {
    return make("dict_type", std::move(loc), "Input should be a valid dictionary", input);
}

FieldError model_attributes_type(const json::value& input) {
    return make("model_attributes_type", body_loc(),
                "Input should be a valid dictionary or object to extract fields from", input);
}

FieldError json_invalid(std::size_t position, std::string_view reason) {
    json::array loc{"body", position};
    auto e = make("json_invalid", std::move(loc), "JSON decode error", json::object{});
    e.ctx = json::object{{"error", json::string_view(reason.data(), reason.size())}};
    return e;
}

FieldError model_attributes_type(std::string_view body_text) {
    // Cut before sanitizing: the text may be the whole (large) body.
    auto kept = utf8_prefix(body_text, kMaxEchoedInputBytes);
    auto e = model_attributes_type(json::value(json::string(sanitize_output(kept))));
    e.input_truncated = kept.size() < body_text.size();
    return e;
}

json::value validation_body(const std::vector<FieldError>& errors, std::size_t omitted) {
    json::array detail;
    for (const FieldError& e : errors) {
        json::object o;
        o["type"] = e.type;
        o["loc"] = e.loc;
        o["msg"] = e.msg;
        o["input"] = e.input;
        if (e.ctx) o["ctx"] = *e.ctx;
        if (e.input_truncated) o["input_truncated"] = true;
        detail.push_back(std::move(o));
    }
    json::object body{{"detail", std::move(detail)}};
    if (omitted > 0) body["errors_omitted"] = omitted;
    return body;
}

}  // namespace sbx::api
