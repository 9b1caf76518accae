// PreparedRun: a run forked from a zygote and set up up to "ready" — fresh namespaces, its own
// cgroup, work dir and /tmp mounted — waiting for its program. Prepared ahead of requests so
// that fork and namespace set-up stay off the request path; used at most once.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "config/config.h"
#include "pool/channel.h"
#include "pool/run_group.h"
#include "pool/run_network.h"
#include "pool/run_quotas.h"
#include "pool/zygote.h"
#include "sandbox/sandbox_ids.h"
#include "sys/id_pool.h"

namespace sbx::pool {

struct DriverSettings {
    // The program's uid and gid, in its own user namespace.
    std::uint32_t sandbox_uid = sandbox::kPythonSandboxUid;
    // SANDBOX_UID_BASE: the run holding host uid uid_base + 1 + k is uid 1000 + k in its
    // zygote's user namespace, and maps its own uid 1000 onto that.
    std::uint32_t uid_base = 0;
    RunQuotas quotas;
    std::chrono::milliseconds setup_timeout{10000};
    std::chrono::milliseconds kill_grace{5000};  // after a kill, how long the exit report may take
    std::chrono::milliseconds flush_grace{100};  // at the deadline, how long G may take to flush
};

struct PreparedRun {
    PreparedRun() = default;
    PreparedRun(PreparedRun&&) noexcept = default;
    PreparedRun& operator=(PreparedRun&&) noexcept = default;
    PreparedRun(const PreparedRun&) = delete;
    PreparedRun& operator=(const PreparedRun&) = delete;
    ~PreparedRun();  // an unused run is killed; its group removed

    // False once G has died (e.g. its zygote was lost) or its network stack has: such a run
    // must be discarded.
    [[nodiscard]] bool usable() const;

    // The run's host uid. First member, so destroyed last: returned to the pool after
    // everything else, and handed out again only once G (and with it every process of the
    // run) has exited.
    sys::IdLease uid;
    std::shared_ptr<Zygote> zygote;  // keeps the zygote object alive for the run's life
    std::string run_id;
    std::unique_ptr<RunGroup> group;    // null on hosts without cgroups
    std::unique_ptr<Channel> channel;   // the run socket
    sys::UniqueFd stdout_read, stderr_read;
    sys::UniqueFd end_read;     // the end pipe's read end (records: pool/end_pipe.h)
    // The program's stdin (prepared with_stdin; else the program's fd 0 is /dev/null).
    sys::UniqueFd stdin_write;
    sys::UniqueFd pidfd;    // G, pid 1 of the run's pid namespace
    pid_t g_pid = 0;        // G's pid in the server's namespace (from the pidfd), 0 if unknown
    sys::UniqueFd workdir;  // O_DIRECTORY fd of the run's /work tmpfs
    std::unique_ptr<RunNetwork> link;  // egress runs: up before the run counts as prepared
};

// Forks the run as host uid `uid` and waits for G's "ready"; with `network` (egress), then
// attaches the run's link and waits until it is up. `with_stdin`: the program's fd 0 is a pipe
// the server writes to (PreparedRun::stdin_write), else /dev/null. Errors: the step that failed (inside G for set-up failures,
// e.g. mount_tmpfs; run_protocol / zygote_protocol for lost processes; network_ready).
boost::asio::awaitable<sys::Result<PreparedRun>> prepare_run(
    std::shared_ptr<Zygote> zygote, std::string run_id, sys::IdLease uid,
    std::unique_ptr<RunGroup> group, RunNetworkFactory* network, const config::Config& cfg,
    const DriverSettings& settings, bool with_stdin = false);

}  // namespace sbx::pool
