// Base64 (RFC 4648 standard alphabet) encoding for responses and decoding for input files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sbx::api {

// Standard alphabet with '=' padding (Python's base64.b64encode). "" → "".
[[nodiscard]] std::string base64_encode(std::string_view bytes);

// Decodes the standard alphabet. Accepted: canonical padded input; missing padding (a final
// group of 2 or 3 characters); ASCII whitespace anywhere (MIME line breaks), which is skipped.
// Rejected (nullopt): any other character (including the URL-safe '-' '_'), '=' anywhere but
// the end, more than two '=', a final group of 1 character, and data after padding.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

// Size the decoded form of `text` would have at most (for a cheap size check before decoding).
[[nodiscard]] std::size_t base64_decoded_size_bound(std::string_view text) noexcept;

}  // namespace sbx::api
