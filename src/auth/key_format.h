// API key text: generation from the OS's CSPRNG, parsing, SHA-256 hashing, constant-time checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sbx::auth {

// A key reads "psk_<id>_<secret>": "psk_" marks it as ours (secret scanners, logs), <id> is 12
// base32 characters (public: it names the key in lists, logs and the admin API), <secret> is
// 43 base64url characters (256 random bits). Only SHA-256 of the whole text is stored.
inline constexpr std::string_view kKeyPrefix = "psk_";
inline constexpr std::size_t kIdLength = 12;
inline constexpr std::size_t kSecretLength = 43;
inline constexpr std::size_t kKeyLength = kKeyPrefix.size() + kIdLength + 1 + kSecretLength;

struct NewKey {
    std::string id;
    std::string text;  // shown once, to whoever created it
    std::string hash;  // sha256(text), 32 raw bytes
};

// Random bytes from OpenSSL's RAND_bytes (seeded by getrandom). Throws std::runtime_error if the
// generator fails (it does not on Linux with getrandom).
NewKey generate_key();

// The id of a well-formed key text; nullopt for anything else (wrong prefix, length, alphabet).
// Cheap and without any lookup: malformed keys are refused before touching the cache or store.
std::optional<std::string_view> key_id_of(std::string_view text) noexcept;

// SHA-256 of the text, 32 raw bytes (OpenSSL EVP).
std::string sha256(std::string_view text);

// Compares two hashes in time that depends only on their length (CRYPTO_memcmp).
bool hashes_equal(std::string_view a, std::string_view b) noexcept;

// Lower-case hex of bytes (for showing a hash prefix in tests and logs).
std::string to_hex(std::string_view bytes);

}  // namespace sbx::auth
