// Callback signatures: X-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>.
#pragma once

#include <string>
#include <string_view>

namespace sbx::jobs {

// "sha256=" followed by 64 lowercase hex digits.
[[nodiscard]] std::string sign_body(std::string_view secret, std::string_view body);

// A new random secret for a key: "whsec_" + 48 hex digits (192 bits from the OS's CSPRNG).
// Throws std::runtime_error when no random bytes can be had.
[[nodiscard]] std::string new_webhook_secret();

// A new random id with `prefix` ("j", "b") + 24 hex digits (96 bits): not guessable.
[[nodiscard]] std::string new_job_id(std::string_view prefix);

}  // namespace sbx::jobs
