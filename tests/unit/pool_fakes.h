// Fakes for the pool's concurrency core without namespaces or cgroups: a run whose "G" is a
// plain forked child, whose zygote side is the test holding the other ends, and a RunGroup
// that records what it is asked.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pool/run_group.h"
#include "pool/run_prepare.h"
#include "pool/run_protocol.h"
#include "sys/fd_util.h"
#include "sys/id_pool.h"
#include "sys/pidfd.h"

namespace sbx::pool::testing {

class FakeGroup final : public RunGroup {
   public:
    sys::Result<std::vector<sys::UniqueFd>> procs_fds() override {
        return std::vector<sys::UniqueFd>{};
    }
    GroupStats stats() override {
        std::lock_guard lock(mu);
        return stats_now;
    }
    void kill() override { ++kills; }
    [[nodiscard]] std::vector<pid_t> members() const override {
        std::lock_guard lock(mu);
        return member_pids;
    }

    mutable std::mutex mu;
    GroupStats stats_now;
    std::vector<pid_t> member_pids;
    std::atomic<int> kills{0};
};

// The process side of a fake run: what G and its zygote would hold.
struct FakeSide {
    sys::UniqueFd run_sock;  // the zygote's end of the run socket
    sys::UniqueFd out_w, err_w, end_w, stdin_r;
    pid_t g = -1;  // a forked child standing for G; pause()s unless given a body
    std::filesystem::path workdir;

    FakeSide() = default;
    FakeSide(const FakeSide&) = delete;
    FakeSide& operator=(const FakeSide&) = delete;
    ~FakeSide() {
        if (zygote.joinable()) {
            if (g > 0) ::kill(g, SIGKILL);
            zygote.join();
        }
        if (g > 0) {
            ::kill(g, SIGKILL);
            reap();
        }
        std::error_code ec;
        if (!workdir.empty()) std::filesystem::remove_all(workdir, ec);
    }
    // Waits for G; its status (-1 if already reaped).
    int reap() {
        int status = 0;
        if (g <= 0 || ::waitpid(g, &status, 0) != g) return -1;
        g = -1;
        return status;
    }
    [[nodiscard]] bool g_alive() const { return g > 0 && ::kill(g, 0) == 0 && !zombie(); }
    [[nodiscard]] bool zombie() const {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(g), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == g;
    }
    void close_outputs() {
        out_w.reset();
        err_w.reset();
    }
    // The zygote's part from here on, on a thread: when G ends, reap it, send its `exit`,
    // close the run socket.
    void start_zygote() {
        close_outputs();
        zygote = std::thread([this] {
            int status = 0;
            if (::waitpid(g, &status, 0) != g) return;
            g = -1;
            ExitMessage exit;
            if (WIFEXITED(status)) exit.exit_code = WEXITSTATUS(status);
            if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
            exit.cpu_time_s = 0.0;
            // G would have read `go`: a socket closed with unread data resets its peer.
            char buf[256];
            while (::recv(run_sock.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) {
            }
            (void)send_message(run_sock.get(), encode(exit));
            run_sock.reset();
        });
    }
    std::thread zygote;
};

// A prepared run over fresh pipes and a socket pair, G forked to run `body` (default: wait
// to be killed). The child keeps only what `body` uses of the fake side's fds.
inline PreparedRun make_fake_run(const boost::asio::any_io_executor& ex, FakeSide& side,
                                 std::unique_ptr<RunGroup> group, bool with_stdin = false,
                                 std::function<void(FakeSide&)> body = {}) {
    auto out = sys::make_pipe().value();
    auto err = sys::make_pipe().value();
    auto end = sys::make_pipe().value();
    auto sock = sys::seqpacket_pair().value();
    PreparedRun run;
    static auto uids = std::make_shared<sys::IdPool>(::getuid(), 1);
    if (auto lease = uids->acquire()) run.uid = std::move(*lease);
    run.run_id = "fake";
    run.channel = std::make_unique<Channel>(ex, std::move(sock.first), sys::Step::run_protocol);
    run.stdout_read = std::move(out.read);
    run.stderr_read = std::move(err.read);
    run.end_read = std::move(end.read);
    side.run_sock = std::move(sock.second);
    side.out_w = std::move(out.write);
    side.err_w = std::move(err.write);
    side.end_w = std::move(end.write);
    if (with_stdin) {
        auto in = sys::make_pipe().value();
        run.stdin_write = std::move(in.write);
        side.stdin_r = std::move(in.read);
    }
    char tmpl[] = "/tmp/sbx-fake-run-XXXXXX";
    side.workdir = ::mkdtemp(tmpl);
    run.workdir = sys::UniqueFd{::open(side.workdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    const pid_t pid = ::fork();
    if (pid == 0) {
        side.run_sock.reset();  // G does not hold the zygote's end of its run socket
        ::close(run.channel->native_handle());  // nor the server's ends of anything
        for (auto* fd : {&run.stdout_read, &run.stderr_read, &run.end_read, &run.stdin_write}) {
            fd->reset();
        }
        if (body) body(side);
        for (;;) ::pause();
    }
    side.g = pid;
    run.g_pid = pid;
    run.pidfd = sys::open_pidfd(pid).value();
    run.group = std::move(group);
    return run;
}

}  // namespace sbx::pool::testing
