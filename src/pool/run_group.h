// RunGroup: the resource-control group of one run, as the run driver needs it.
// Implemented over sandbox cgroups (v1 or v2); absent when the host has no usable cgroups.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool/run_service.h"
#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::pool {

struct GroupStats {
    std::optional<std::uint64_t> memory_peak_bytes;
    std::optional<double> cpu_time_s;
    std::uint64_t oom_kills = 0;
};

class RunGroup {
public:
    virtual ~RunGroup() = default;  // kills what is left and removes the group
    // One O_WRONLY cgroup.procs fd per hierarchy; the run writes "0" to each to join.
    virtual sys::Result<std::vector<sys::UniqueFd>> procs_fds() = 0;
    virtual GroupStats stats() = 0;
    virtual void kill() = 0;
    // Host pids of the processes inside now (no waiting, no signal).
    [[nodiscard]] virtual std::vector<pid_t> members() const = 0;
};

struct GroupLimits {
    std::uint64_t memory_bytes;
    std::uint32_t pids;
    double cpu_cores;
    std::uint64_t socket_bytes;  // socket buffers, where the host counts them apart (cgroup v1)
};

class RunGroupFactory {
public:
    virtual ~RunGroupFactory() = default;
    // nullptr (without error) when groups are not available on this host.
    virtual sys::Result<std::unique_ptr<RunGroup>> create(const std::string& run_id,
                                                          const GroupLimits& limits) = 0;
    [[nodiscard]] virtual std::vector<LayerStatus> layers() const = 0;
};

}  // namespace sbx::pool
