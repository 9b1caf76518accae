// libFuzzer target: base64 decode never crashes, and encode → decode is the identity.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto decoded = sbx::api::base64_decode(bytes);
    if (decoded && decoded->size() > sbx::api::base64_decoded_size_bound(bytes)) __builtin_trap();
    const auto encoded = sbx::api::base64_encode(bytes);
    auto back = sbx::api::base64_decode(encoded);
    if (!back || *back != bytes) __builtin_trap();
    return 0;
}
