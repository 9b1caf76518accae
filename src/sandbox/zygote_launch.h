// Spawner side of a zygote start: clone into new namespaces, id maps, release, failure report.
#pragma once

#include <filesystem>

#include "sandbox/spawner.h"
#include "sys/error.h"

namespace sbx::sandbox {

// Runs in the spawner process only (single-threaded). Returns once python was exec'd (EOF on
// the failure pipe) or with the child's failing step and errno. The returned pid is a child
// of the calling process: the caller reaps it.
[[nodiscard]] sys::Result<ZygoteHandle> launch_zygote(ZygoteSpec spec,
                                                      const std::filesystem::path& stage);

}  // namespace sbx::sandbox
