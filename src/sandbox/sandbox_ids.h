// The ids a sandboxed program runs as, per language runtime (uid = gid).
#pragma once

#include <cstdint>

namespace sbx::sandbox {

// Python: the program's uid and gid in its own user namespace, and the first run id in the
// zygote's (runs are kPythonSandboxUid + k there, one host uid each).
inline constexpr std::uint32_t kPythonSandboxUid = 1000;

}  // namespace sbx::sandbox
