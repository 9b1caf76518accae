// prepare_run: the fork request, fd hand-over and G's "ready", up to where the program starts.
#include "pool/run_prepare.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <csignal>

#include "pool/run_protocol.h"
#include "pool/run_verdict.h"
#include "sandbox/sandbox_ids.h"
#include "sys/fd_util.h"
#include "sys/pidfd.h"

namespace sbx::pool {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using sys::Result;
using sys::Step;
using sys::SysError;
using sys::UniqueFd;

namespace {

RunMessage run_message(const std::string& run_id, std::uint32_t host_uid,
                       const config::Config& cfg, const DriverSettings& s, bool has_memory_group,
                       bool with_stdin, std::size_t cgroup_fds) {
    RunMessage m;
    m.fds = {"run", "stdout", "stderr", "end"};
    if (with_stdin) m.fds.emplace_back("stdin");
    m.fds.insert(m.fds.end(), cgroup_fds, "cgroup");
    const std::uint32_t outer = sandbox::kPythonSandboxUid + (host_uid - s.uid_base - 1);
    const RunQuotas& q = s.quotas;
    m.id = run_id;
    m.uid = m.gid = s.sandbox_uid;
    m.outer_uid = m.outer_gid = outer;  // in the zygote's namespace
    m.nproc = q.nproc;
    m.sigpending = q.sigpending;
    m.msgqueue = q.msgqueue;
    m.memlock = q.memlock;
    m.socket_buffer_max = q.socket_buffer_max;
    m.workdir_bytes = cfg.workdir_size_bytes;
    m.workdir_inodes = cfg.workdir_max_inodes;
    m.tmp_bytes = cfg.tmp_size_bytes;
    m.nofile = cfg.nofile_limit;
    m.fsize = cfg.workdir_size_bytes;
    // Without a memory cgroup, RLIMIT_AS stands in: it counts address space, and a
    // pre-imported zygote already maps ~250 MB, hence the allowance on top of the limit.
    m.as_bytes = has_memory_group ? 0 : cfg.memory_limit_bytes + (1ULL << 30);
    m.policy = std::string(config::to_string(cfg.code_policy));
    return m;
}

// Waits for G's "ready" (pidfd, work-dir fd, network namespace fd), or a set-up error, within the timeout.
asio::awaitable<Result<Message>> await_ready(Channel& ch, std::chrono::milliseconds timeout) {
    asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
    auto which = co_await (ch.receive() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (which.index() == 1) co_return SysError{Step::run_protocol, ETIMEDOUT, "no ready message"};
    auto msg = std::move(std::get<0>(which));
    if (!msg) co_return msg.error();
    if (msg->type() == "error") co_return setup_error_from(msg->body);
    if (msg->type() != "ready" || msg->fds.size() != 3) {
        co_return SysError{Step::run_protocol, EPROTO, "unexpected " + std::string(msg->type())};
    }
    co_return std::move(*msg);
}

// Waits until the run's link says it is up (one byte) or failed (EOF), within the timeout.
asio::awaitable<Result<void>> await_link(RunNetwork& link, std::chrono::milliseconds timeout) {
    auto ex = co_await asio::this_coro::executor;
    SBX_CO_TRY(auto fd, sys::dup_cloexec(link.ready_fd()));
    asio::posix::stream_descriptor ready(ex, fd.release());
    asio::steady_timer timer(ex, timeout);
    char byte = 0;
    auto which = co_await (ready.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (which.index() == 1) co_return SysError{Step::network_ready, ETIMEDOUT, "link not up in time"};
    auto [ec, n] = std::get<0>(which);
    if (ec || n != 1) co_return SysError{Step::network_ready, EIO, link.failure()};
    co_return Result<void>{};
}

// Starts the run's link with its process in the run's group: the stack's CPU, memory and
// pids count against the run's limits, and it dies with the group.
Result<std::unique_ptr<RunNetwork>> attach_link(const PreparedRun& run, int netns,
                                                RunNetworkFactory& network) {
    std::vector<UniqueFd> join;
    if (run.group != nullptr) {
        SBX_TRY(join, run.group->procs_fds());
    }
    std::vector<int> join_fds;
    for (const auto& fd : join) join_fds.push_back(fd.get());
    return network.attach(netns, join_fds);  // `join` closes: the child has them
}

}  // namespace

PreparedRun::~PreparedRun() {
    // G (and with it its pid namespace) goes first; the group's own destructor then kills
    // whatever else is left and removes it (no freeze round trip when it is already empty).
    if (!pidfd) return;  // never ready: no process ever acted as the run's uid
    (void)sys::raw_pidfd_send_signal(pidfd.get(), SIGKILL);
    // G is pid 1 of the run's pid namespace: once it has exited, every process of the run has.
    if (!uid) return;
    if (auto watch = sys::dup_cloexec(pidfd.get())) uid.busy_until_readable(std::move(*watch));
}

bool PreparedRun::usable() const {
    if (!pidfd || !channel) return false;
    if (link && !link->alive()) return false;  // its network stack is gone
    pollfd p{pidfd.get(), POLLIN, 0};  // a pidfd polls readable once the process has exited
    return ::poll(&p, 1, 0) == 0;
}

asio::awaitable<Result<PreparedRun>> prepare_run(std::shared_ptr<Zygote> zygote, std::string run_id,
                                                 sys::IdLease uid, std::unique_ptr<RunGroup> group,
                                                 RunNetworkFactory* network,
                                                 const config::Config& cfg,
                                                 const DriverSettings& settings, bool with_stdin) {
    auto ex = co_await asio::this_coro::executor;
    SBX_CO_TRY(auto out_pipe, sys::make_pipe("stdout"));
    SBX_CO_TRY(auto err_pipe, sys::make_pipe("stderr"));
    SBX_CO_TRY(auto end_pipe, sys::make_pipe("end"));
    sys::Pipe in_pipe;
    if (with_stdin) {
        SBX_CO_TRY(in_pipe, sys::make_pipe("stdin"));
    }
    SBX_CO_TRY(auto run_pair, sys::seqpacket_pair("run"));
    std::vector<UniqueFd> cgroup_fds;
    if (group != nullptr) {
        SBX_CO_TRY(auto fds, group->procs_fds());
        cgroup_fds = std::move(fds);
    }
    std::vector<int> fds{run_pair.second.get(), out_pipe.write.get(), err_pipe.write.get(),
                         end_pipe.write.get()};
    if (with_stdin) fds.push_back(in_pipe.read.get());
    for (const auto& fd : cgroup_fds) fds.push_back(fd.get());
    SBX_CO_TRY_VOID(zygote->send_run(
        encode(run_message(run_id, uid.id(), cfg, settings, group != nullptr, with_stdin,
                           cgroup_fds.size())),
        fds));
    // Our copies of the run's ends go at once: EOF on the pipes must mean the run is over.
    run_pair.second.reset();
    out_pipe.write.reset();
    err_pipe.write.reset();
    end_pipe.write.reset();
    in_pipe.read.reset();
    cgroup_fds.clear();

    PreparedRun run;
    run.uid = std::move(uid);
    run.zygote = std::move(zygote);
    run.run_id = std::move(run_id);
    run.group = std::move(group);
    run.channel = std::make_unique<Channel>(ex, std::move(run_pair.first), Step::run_protocol);
    run.stdout_read = std::move(out_pipe.read);
    run.stderr_read = std::move(err_pipe.read);
    run.end_read = std::move(end_pipe.read);
    run.stdin_write = std::move(in_pipe.write);
    SBX_CO_TRY(auto ready, co_await await_ready(*run.channel, settings.setup_timeout));
    run.pidfd = std::move(ready.fds[0]);
    run.g_pid = sys::pid_of_pidfd(run.pidfd.get()).value_or(0);
    run.workdir = std::move(ready.fds[1]);
    const UniqueFd netns = std::move(ready.fds[2]);  // needed only to attach the link
    if (network != nullptr) {
        SBX_CO_TRY(run.link, attach_link(run, netns.get(), *network));
        SBX_CO_TRY_VOID(co_await await_link(*run.link, settings.setup_timeout));
    }
    co_return run;
}

}  // namespace sbx::pool
