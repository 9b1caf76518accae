// RunNetwork: a run's link to the outside (NETWORK_MODE=egress), as the pool needs it.
// Implemented over network::SlirpLink (app/egress_links.h); absent without egress.
#pragma once

#include <sys/types.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pool/run_service.h"
#include "sys/error.h"

namespace sbx::pool {

class RunNetwork {
public:
    virtual ~RunNetwork() = default;  // cuts the link: its process is killed and reaped
    // Readable once the link is up (one byte), or at EOF when it failed to come up.
    [[nodiscard]] virtual int ready_fd() const = 0;
    // After EOF on ready_fd(): what went wrong.
    [[nodiscard]] virtual std::string failure() = 0;
    // False once the link's process has exited (e.g. killed from outside).
    [[nodiscard]] virtual bool alive() const = 0;
    // The link's process (host pid; it is a member of the run's group) and a pidfd of it
    // that polls readable once it has exited.
    [[nodiscard]] virtual pid_t pid() const = 0;
    [[nodiscard]] virtual int pidfd() const = 0;
};

class RunNetworkFactory {
public:
    virtual ~RunNetworkFactory() = default;
    // Starts the link for the run's network namespace (`run_netns`, an nsfs fd), with its
    // process in the run's group: `run_groups`
    // are the group's cgroup.procs fds (RunGroup::procs_fds; empty without a group), which
    // the caller may close once this returns. Returns before it is ready (see ready_fd()).
    virtual sys::Result<std::unique_ptr<RunNetwork>> attach(int run_netns,
                                                            std::span<const int> run_groups) = 0;
    [[nodiscard]] virtual std::vector<LayerStatus> layers() const = 0;
};

}  // namespace sbx::pool
