// libFuzzer target: output sanitising yields valid UTF-8 without NUL; file-name rules never
// accept a name that could leave the work dir.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/filename.h"
#include "api/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto clean = sbx::api::sanitize_output(bytes);
    if (sbx::api::first_invalid_utf8(clean) || clean.find('\0') != std::string::npos) __builtin_trap();
    if (!sbx::api::filename_problem(bytes)) {
        // Accepted: relative, no "..", no empty segment, no NUL.
        if (bytes.empty() || bytes.front() == '/' || bytes.find('\0') != std::string_view::npos) __builtin_trap();
        std::string_view rest = bytes;
        while (!rest.empty()) {
            const auto slash = rest.find('/');
            const auto seg = rest.substr(0, slash);
            if (seg.empty() || seg == "..") __builtin_trap();
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
    }
    return 0;
}
