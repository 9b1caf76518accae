// Credential parsing over header values; no HTTP types needed.
#include "auth/credentials.h"

#include <cstdint>

namespace sbx::auth {
namespace {

std::string_view trim_ows(std::string_view s) noexcept {
    // RFC 9110 optional whitespace: spaces and horizontal tabs.
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
        if (x != y) return false;
    }
    return true;
}

std::optional<std::string_view> bearer_token(std::string_view value) noexcept {
    value = trim_ows(value);
    auto space = value.find_first_of(" \t");
    if (space == std::string_view::npos || !iequals(value.substr(0, space), "bearer")) {
        return std::nullopt;
    }
    auto token = trim_ows(value.substr(space));
    if (token.empty()) return std::nullopt;
    return token;
}

}  // namespace

std::optional<Credential> credential_from_headers(
    std::optional<std::string_view> authorization,
    std::optional<std::string_view> x_api_key) noexcept {
    if (authorization) {
        if (auto token = bearer_token(*authorization)) {
            return Credential{*token, CredentialSource::authorization_bearer};
        }
    }
    if (x_api_key) {
        auto key = trim_ows(*x_api_key);
        if (!key.empty()) return Credential{key, CredentialSource::x_api_key};
    }
    return std::nullopt;
}

}  // namespace sbx::auth
