// libFuzzer target: the whole request-body path — JSON parsing, model validation (422 bodies),
// the service checks (400), base64 and file names — must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/execute_request.h"
#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const sbx::config::Config cfg = [] {
        sbx::config::Config c;
        c.max_code_length = 4096;  // small limits reach the limit paths with small inputs
        c.max_file_size = 1024;
        return c;
    }();
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto r = sbx::api::parse_execute_body("application/json", body, cfg, "fuzz");
    if (r) {
        // A request that passed validation must respect every limit.
        if (r->code.size() > 4 * cfg.max_code_length) __builtin_trap();
        for (const auto& f : r->files) {
            if (f.content.size() > cfg.max_file_size || f.name.empty()) __builtin_trap();
        }
    }
    return 0;
}
