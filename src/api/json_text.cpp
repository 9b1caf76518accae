// Compact JSON writer with Python-style floats; strings and integers as Boost.JSON writes them.
#include "api/json_text.h"

#include <array>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdlib>

namespace sbx::api {
namespace json = boost::json;

std::string python_float(double d) {
    // Shortest round-trip digits in scientific form, then laid out with repr()'s rule:
    // positional when -4 <= exponent < 16, else d.ddde±XX.
    std::array<char, 64> buf{};
    auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::scientific);
    std::string sci(buf.data(), end);
    std::string sign;
    if (!sci.empty() && sci.front() == '-') {
        sign = "-";
        sci.erase(0, 1);
    }
    auto e = sci.find('e');
    int exp = std::atoi(sci.c_str() + e + 1);
    std::string digits;
    for (char c : sci.substr(0, e)) {
        if (c != '.') digits += c;
    }
    if (exp < -4 || exp >= 16) {
        std::string out = sign + digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        std::string ex = std::to_string(std::abs(exp));
        if (ex.size() < 2) ex.insert(0, "0");
        return out + (exp < 0 ? "e-" : "e+") + ex;
    }
    if (exp < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    auto int_len = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= int_len)
        return sign + digits + std::string(int_len - digits.size(), '0') + ".0";
    return sign + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

namespace {

void write(std::string& out, const json::value& v);

void write_object(std::string& out, const json::object& o) {
    out += '{';
    bool first = true;
    for (const auto& kv : o) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string_view(kv.key()));
        out += ':';
        write(out, kv.value());
    }
    out += '}';
}

void write(std::string& out, const json::value& v) {
    switch (v.kind()) {
        case json::kind::object:
            write_object(out, v.get_object());
            return;
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) out += ',';
                first = false;
                write(out, e);
            }
            out += ']';
            return;
        }
        case json::kind::double_:
            out += python_float(v.get_double());
            return;
        case json::kind::string:
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::bool_:
        case json::kind::null:
            out += json::serialize(v);
            return;
    }
}

}  // namespace

std::string to_json_text(const json::value& value) {
    std::string out;
    write(out, value);
    return out;
}

}  // namespace sbx::api
