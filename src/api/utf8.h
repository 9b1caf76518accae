// UTF-8 helpers: validation, code point counting, Python's isspace, output sanitizing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sbx::api {

// Makes captured program output valid UTF-8 like Python's bytes.decode("utf-8", "replace"):
// each maximal invalid subsequence becomes U+FFFD; NUL bytes are removed.
[[nodiscard]] std::string sanitize_output(std::string_view bytes);

// Byte offset of the first byte that is not part of well-formed UTF-8 (overlongs,
// surrogates and code points above U+10FFFF are ill-formed); nullopt when all is valid.
[[nodiscard]] std::optional<std::size_t> first_invalid_utf8(std::string_view bytes) noexcept;

// Number of code points (Python's len(str)) of valid UTF-8.
[[nodiscard]] std::size_t count_code_points(std::string_view utf8) noexcept;

// Python's `not s.strip()`: true when empty or made only of Unicode whitespace.
[[nodiscard]] bool is_blank(std::string_view utf8) noexcept;

}  // namespace sbx::api
