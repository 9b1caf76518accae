// HMAC-SHA256 signatures (OpenSSL) and random secrets and ids.
#include "jobs/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace sbx::jobs {
namespace {

std::string hex(const unsigned char* data, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out += kDigits[data[i] >> 4];
        out += kDigits[data[i] & 0x0f];
    }
    return out;
}

std::string random_hex(std::size_t bytes) {
    std::array<unsigned char, 64> buf{};
    if (bytes > buf.size() || RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
        throw std::runtime_error("no random bytes (RAND_bytes failed)");
    }
    return hex(buf.data(), bytes);
}

}  // namespace

std::string sign_body(std::string_view secret, std::string_view body) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac.data(), &len);
    return "sha256=" + hex(mac.data(), len);
}

std::string new_webhook_secret() { return "whsec_" + random_hex(24); }

std::string new_job_id(std::string_view prefix) { return std::string(prefix) + random_hex(12); }

}  // namespace sbx::jobs
