// API key text: OpenSSL RAND_bytes for the randomness, EVP for SHA-256, CRYPTO_memcmp to compare.
#include "auth/key_format.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace sbx::auth {
namespace {

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

template <std::size_t N>
std::array<unsigned char, N> random_bytes() {
    std::array<unsigned char, N> out{};
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed: no random bytes for a key");
    }
    return out;
}

// Base64url without padding: 32 bytes -> 43 characters.
std::string base64url(const unsigned char* p, std::size_t n) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kBase64Url[(acc >> bits) & 0x3F];
        }
    }
    if (bits > 0) out += kBase64Url[(acc << (6 - bits)) & 0x3F];
    return out;
}

bool all_in(std::string_view s, std::string_view alphabet) noexcept {
    return s.find_first_not_of(alphabet) == std::string_view::npos;
}

}  // namespace

NewKey generate_key() {
    // 12 base32 characters = 60 bits for the id: unique enough to be a primary key (a clash is
    // refused by the store and the caller tries again), not a secret.
    auto id_bytes = random_bytes<kIdLength>();
    std::string id;
    for (auto b : id_bytes) id += kBase32[b & 0x1F];
    auto secret = random_bytes<32>();
    NewKey k;
    k.id = id;
    k.text = std::string(kKeyPrefix) + id + "_" + base64url(secret.data(), secret.size());
    k.hash = sha256(k.text);
    OPENSSL_cleanse(secret.data(), secret.size());
    return k;
}

std::optional<std::string_view> key_id_of(std::string_view text) noexcept {
    if (text.size() != kKeyLength || !text.starts_with(kKeyPrefix)) return std::nullopt;
    auto id = text.substr(kKeyPrefix.size(), kIdLength);
    auto sep = text[kKeyPrefix.size() + kIdLength];
    auto secret = text.substr(kKeyPrefix.size() + kIdLength + 1);
    if (sep != '_' || !all_in(id, kBase32) || !all_in(secret, kBase64Url)) return std::nullopt;
    return id;
}

std::string sha256(std::string_view text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest(sha256) failed");
    }
    return std::string(reinterpret_cast<const char*>(md.data()), len);
}

bool hashes_equal(std::string_view a, std::string_view b) noexcept {
    // The lengths are public (always 32 for SHA-256); only the contents must not leak.
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    return out;
}

}  // namespace sbx::auth
