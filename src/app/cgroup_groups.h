// CgroupGroups: pool::RunGroupFactory over the sandbox cgroup manager (v1, v2 or none).
#pragma once

#include <memory>

#include "pool/run_group.h"
#include "sandbox/cgroup.h"

namespace sbx::app {

class CgroupGroups final : public pool::RunGroupFactory {
public:
    explicit CgroupGroups(std::unique_ptr<sandbox::CgroupManager> manager);
    sys::Result<std::unique_ptr<pool::RunGroup>> create(const std::string& run_id,
                                                        const pool::GroupLimits& limits) override;
    [[nodiscard]] std::vector<pool::LayerStatus> layers() const override;
    [[nodiscard]] const sandbox::CgroupManager& manager() const { return *manager_; }

private:
    std::unique_ptr<sandbox::CgroupManager> manager_;
};

}  // namespace sbx::app
