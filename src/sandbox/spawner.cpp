// Spawner: fork at start-up, the spawner's poll loop (requests + SIGCHLD), and the client side.
#include "sandbox/spawner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <vector>

#include "sandbox/runtime_snapshot.h"
#include "sandbox/spawner_protocol.h"
#include "sandbox/zygote_launch.h"
#include "sys/eintr.h"
#include "sys/fd_util.h"

namespace sbx::sandbox {
namespace {

using sys::Result;
using sys::Step;
using sys::UniqueFd;

constexpr int kSpawnerExitError = 70;
constexpr int kReplyTimeoutMs = 10'000;  // a zygote start takes a few ms; 10 s means it is stuck

// Spawner process: one request, one reply. A failed reply write means the server is gone.
bool spawner_serve_one(int sock, const std::filesystem::path& stage, RuntimeSnapshots& snapshots,
                       std::vector<pid_t>& kids) {
    auto packet = proto::recv_packet(sock, 1);
    if (!packet || packet->eof) return false;
    auto spec = proto::decode_request(packet->bytes);
    proto::Reply reply;
    Result<ZygoteHandle> zygote = sys::SysError{Step::spawner_protocol, EPROTO, "bad request"};
    if (spec) {
        if (!packet->fds.empty()) spec->seccomp_memfd = std::move(packet->fds.front());
        auto snapshot = snapshots.get(spec->runtime_dir);
        if (snapshot) {
            spec->runtime_dir = *snapshot;
            zygote = launch_zygote(std::move(*spec), stage);
        } else {
            zygote = snapshot.error();
        }
    }
    if (zygote) {
        kids.push_back(zygote->pid);
        reply.pid = zygote->pid;
        const std::array fds{zygote->pidfd.get(), zygote->control.get()};
        return proto::send_packet(sock, proto::encode_reply(reply), fds).has_value();
    }
    reply.failure = zygote.error();
    return proto::send_packet(sock, proto::encode_reply(reply)).has_value();
}

// Spawner process: reaps every exited zygote (they are our children).
void spawner_reap(int sigfd, std::vector<pid_t>& kids) {
    signalfd_siginfo info{};
    while (::read(sigfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    int status = 0;
    for (pid_t pid = 0; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
        std::erase(kids, pid);
    }
}

// Spawner process, on exit: kill and reap our zygotes ourselves instead of leaving zombies to
// an init that may not reap. Killing by pid is safe: an unreaped child's pid is never reused.
void spawner_kill_all(std::vector<pid_t>& kids) {
    for (const pid_t pid : kids) (void)::kill(pid, SIGKILL);
    for (const pid_t pid : kids) (void)sys::retry_eintr([&] { return ::waitpid(pid, nullptr, 0); });
    kids.clear();
}

[[noreturn]] void spawner_main(UniqueFd sock, const std::filesystem::path& stage) {
    // Nothing of the server but stdio and our socket: close every other inherited fd.
    const int s = sock.get();
    if (s > 3) (void)::close_range(3, static_cast<unsigned>(s - 1), 0);
    (void)::close_range(static_cast<unsigned>(s + 1), ~0U, 0);
    // Die with the server; non-dumpable: no ptrace or /proc/<pid>/mem by same-uid processes.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::prctl(PR_SET_DUMPABLE, 0) != 0) {
        ::_exit(kSpawnerExitError);
    }
    sigset_t chld;
    ::sigemptyset(&chld);
    ::sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    const UniqueFd sigfd{::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)};
    if (!sigfd) ::_exit(kSpawnerExitError);
    std::vector<pid_t> kids;
    RuntimeSnapshots snapshots(stage.string() + "-runtime");
    for (;;) {
        std::array<pollfd, 2> fds{pollfd{s, POLLIN, 0}, pollfd{sigfd.get(), POLLIN, 0}};
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
        if ((fds[1].revents & POLLIN) != 0) spawner_reap(sigfd.get(), kids);
        if (fds[0].revents != 0 && !spawner_serve_one(s, stage, snapshots, kids)) break;
    }
    spawner_kill_all(kids);
    // _exit: we are a fork of the server; its atexit handlers and destructors are not ours.
    ::_exit(0);
}

Result<void> ensure_staging_dir(const std::filesystem::path& dir) {
    // 0755: the zygote's user namespace root (an unmapped host id) must be able to traverse it.
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return sys::errno_error(Step::spawner_start, dir.string());
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return sys::errno_error(Step::stat, dir.string());
    if (!S_ISDIR(st.st_mode)) return sys::SysError{Step::spawner_start, ENOTDIR, dir.string()};
    return {};
}

}  // namespace

Result<SpawnerClient> Spawner::start(const SpawnerOptions& options) {
    SBX_TRY_VOID(ensure_staging_dir(options.staging_dir));
    SBX_TRY(sys::FdPair pair, sys::seqpacket_pair("spawner"));
    UniqueFd server_end = std::move(pair.first);
    UniqueFd spawner_end = std::move(pair.second);
    const pid_t pid = ::fork();
    if (pid < 0) return sys::errno_error(Step::fork, "spawner");
    if (pid == 0) {
        server_end.reset();
        spawner_main(std::move(spawner_end), options.staging_dir);
    }
    spawner_end.reset();
    auto pidfd = sys::open_pidfd(pid);
    if (!pidfd) {
        (void)::kill(pid, SIGKILL);  // our unreaped child: the pid cannot have been reused
        (void)sys::retry_eintr([&] { return ::waitpid(pid, nullptr, 0); });
        return pidfd.error();
    }
    return SpawnerClient{std::move(server_end), sys::ChildProcess{pid, std::move(*pidfd)}};
}

SpawnerClient::SpawnerClient(UniqueFd socket, sys::ChildProcess process) noexcept
    : socket_(std::move(socket)), process_(std::move(process)) {}

SpawnerClient::SpawnerClient(SpawnerClient&& other) noexcept
    : socket_(std::move(other.socket_)), process_(std::move(other.process_)) {}

SpawnerClient::~SpawnerClient() {
    if (!process_.running()) return;
    socket_.reset();  // EOF: the spawner leaves its loop and exits
    if (process_.wait_for(std::chrono::milliseconds{1000}) == -1) process_.kill_and_reap();
}

Result<ZygoteHandle> SpawnerClient::spawn_zygote(ZygoteSpec spec) {
    const std::lock_guard lock{mutex_};
    if (!socket_) return sys::SysError{Step::spawner_protocol, ENOTCONN, "spawner closed"};
    const std::string request = proto::encode_request(spec);
    std::vector<int> fds;
    if (spec.seccomp_memfd) fds.push_back(spec.seccomp_memfd.get());
    SBX_TRY_VOID(proto::send_packet(socket_.get(), request, fds));
    // Bounded: a spawner that does not answer is broken; closing the socket ends it (and its
    // zygotes), and a late reply can never be mistaken for the answer to a later request.
    pollfd p{socket_.get(), POLLIN, 0};
    if (sys::retry_eintr([&] { return ::poll(&p, 1, kReplyTimeoutMs); }) != 1) {
        socket_.reset();
        return sys::SysError{Step::spawner_protocol, ETIMEDOUT, "no reply from the spawner"};
    }
    SBX_TRY(proto::Packet packet, proto::recv_packet(socket_.get(), 2));
    if (packet.eof) return sys::SysError{Step::spawner_protocol, EPIPE, "spawner exited"};
    SBX_TRY(proto::Reply reply, proto::decode_reply(packet.bytes));
    if (reply.failure) return std::move(*reply.failure);
    if (packet.fds.size() != 2) return sys::SysError{Step::spawner_protocol, EPROTO, "fds"};
    return ZygoteHandle{std::move(packet.fds[0]), std::move(packet.fds[1]), reply.pid};
}

}  // namespace sbx::sandbox
