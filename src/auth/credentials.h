// The API key a request presents: parsed from its Authorization or X-API-Key header values.
#pragma once

#include <optional>
#include <string_view>

namespace sbx::auth {

enum class CredentialSource : std::uint8_t { authorization_bearer, x_api_key };

struct Credential {
    std::string_view key;  // a view into the header value given
    CredentialSource source;
};

// `authorization`: the Authorization header's value, if the request has one; `x_api_key`: the
// X-API-Key header's. "Bearer <key>" (scheme case-insensitive, RFC 9110; spaces and tabs around
// the key ignored) wins; another scheme (Basic ...) is not a key and falls through to
// X-API-Key. nullopt: no key given (an empty key counts as none).
std::optional<Credential> credential_from_headers(
    std::optional<std::string_view> authorization,
    std::optional<std::string_view> x_api_key) noexcept;

}  // namespace sbx::auth
