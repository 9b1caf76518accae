// Rules for the names of input files (keys of the request's "files" object).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sbx::api {

inline constexpr std::size_t kMaxFileNameBytes = 255;

// nullopt when `name` is a safe relative path inside the work dir ("data/in.csv" is fine);
// otherwise the reason, for a 400 message: empty, over 255 bytes, absolute, backslash,
// NUL/control character, empty segment ("a//b", trailing '/'), "." or ".." segment, or
// "main.py" (that name is the program itself).
[[nodiscard]] std::optional<std::string> filename_problem(std::string_view name);

}  // namespace sbx::api
