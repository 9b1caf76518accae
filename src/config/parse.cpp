// Parsers for setting values.
#include "config/parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace sbx::config {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
    return s;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    text = trim(text);
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
    return v;
}

std::optional<double> parse_double(std::string_view text) {
    text = trim(text);
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty() || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    text = trim(text);
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0) ++digits;
    if (digits == 0) return std::nullopt;
    std::uint64_t number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, number);
    if (ec != std::errc{}) return std::nullopt;
    std::string unit;
    for (char c : trim(text.substr(digits))) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit.ends_with("ib")) unit.resize(unit.size() - 2);
    else if (unit.size() > 1 && unit.ends_with("b")) unit.resize(unit.size() - 1);
    unsigned shift = 0;
    if (unit.empty() || unit == "b") shift = 0;
    else if (unit == "k") shift = 10;
    else if (unit == "m") shift = 20;
    else if (unit == "g") shift = 30;
    else if (unit == "t") shift = 40;
    else return std::nullopt;
    if (shift > 0 && number > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
    return number << shift;
}

std::optional<bool> parse_bool(std::string_view text) {
    std::string t;
    for (char c : trim(text)) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    return std::nullopt;
}

std::optional<double> parse_rate(std::string_view text) {
    text = trim(text);
    double per = 1;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        auto unit = trim(text.substr(slash + 1));
        if (unit == "s" || unit == "sec" || unit == "second") per = 1;
        else if (unit == "m" || unit == "min" || unit == "minute") per = 60;
        else if (unit == "h" || unit == "hour") per = 3600;
        else return std::nullopt;
        text = text.substr(0, slash);
    }
    auto v = parse_double(text);
    if (!v || *v < 0) return std::nullopt;
    return *v / per;
}

std::string format_rate(double per_second) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.6g/s", per_second);
    return buf;
}

std::vector<std::string> parse_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto item = trim(text.substr(0, comma));
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace sbx::config
