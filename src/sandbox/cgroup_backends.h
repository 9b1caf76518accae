// Internal: factories of the cgroup backends, used only by detect_cgroups().
#pragma once

#include <memory>
#include <string>

#include "sandbox/cgroup.h"

namespace sbx::sandbox {

// Each returns nullptr and sets `why_not` when its version is absent or not writable.
[[nodiscard]] std::unique_ptr<CgroupManager> make_cgroup_v1(const CgroupDetectOptions& options,
                                                            std::string& why_not);
[[nodiscard]] std::unique_ptr<CgroupManager> make_cgroup_v2(const CgroupDetectOptions& options,
                                                            std::string& why_not);
[[nodiscard]] std::unique_ptr<CgroupManager> make_cgroup_none(std::string reason);

}  // namespace sbx::sandbox
