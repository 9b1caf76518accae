// Parsers for setting values: sizes ("512m"), numbers, booleans, lists. Return nullopt on error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbx::config {

// "512m", "1g", "1024k", "100" (bytes), "10MiB"; case-insensitive. Rejects negatives, overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::int64_t> parse_int(std::string_view text);
std::optional<double> parse_double(std::string_view text);
// true/false, 1/0, yes/no, on/off
std::optional<bool> parse_bool(std::string_view text);
// A rate in events per second: "5/s", "5", "300/m", "1000/h", "0.5/s"; non-negative, finite.
std::optional<double> parse_rate(std::string_view text);
// The rate as text: "5/s", "0.5/s".
std::string format_rate(double per_second);
// "a, b ,c" -> {"a","b","c"}; empty items dropped
std::vector<std::string> parse_list(std::string_view text);
std::string_view trim(std::string_view s);

}  // namespace sbx::config
