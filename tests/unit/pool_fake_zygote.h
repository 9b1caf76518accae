// A fake ZygoteLauncher: each "zygote" is a thread speaking the run protocol's codec over a
// real socket pair (ready, then one run-ready per run message, with a forked child as G), and
// a forked child standing for the zygote process (its pidfd).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "pool/channel.h"
#include "pool/run_protocol.h"
#include "pool/zygote.h"
#include "sys/fd_util.h"
#include "sys/pidfd.h"

namespace sbx::pool::testing {

class FakeZygoteLauncher final : public ZygoteLauncher {
   public:
    std::atomic<bool> answer_runs{true};  // false: take run messages, never answer them
    std::atomic<int> launches{0};
    std::atomic<int> runs{0};

    ~FakeZygoteLauncher() override {
        stop_.store(true);
        for (auto& t : threads_) t.join();
        std::lock_guard lock(mu_);
        for (pid_t p : children_) {
            ::kill(p, SIGKILL);
            ::waitpid(p, nullptr, 0);
        }
        std::error_code ec;
        for (const auto& d : dirs_) std::filesystem::remove_all(d, ec);
    }

    sys::Result<ZygoteProcess> launch(const ZygoteSpec&) override {
        ++launches;
        SBX_TRY(auto control, sys::seqpacket_pair());
        const pid_t pid = fork_pauser();
        SBX_TRY(auto pidfd, sys::open_pidfd(pid));
        auto ours = std::make_shared<sys::UniqueFd>(std::move(control.second));
        std::lock_guard lock(mu_);
        controls_.push_back(ours);
        threads_.emplace_back([this, ours] { serve(ours->get()); });
        return ZygoteProcess{std::move(pidfd), std::move(control.first), pid};
    }

    // The zygote dies: its control socket closes (the server sees EOF).
    void kill_last() {
        std::lock_guard lock(mu_);
        if (!controls_.empty()) ::shutdown(controls_.back()->get(), SHUT_RDWR);
    }

    // Run sockets of the runs received (the zygote's end), oldest first.
    std::vector<int> run_sockets() {
        std::lock_guard lock(mu_);
        std::vector<int> out;
        for (const auto& r : held_) out.push_back(r.front().get());
        return out;
    }

   private:
    pid_t fork_pauser() {
        const pid_t pid = ::fork();
        if (pid == 0) {
            for (;;) ::pause();
        }
        std::lock_guard lock(mu_);
        children_.push_back(pid);
        return pid;
    }

    void serve(int control) {
        ZygoteReadyMessage ready{"3.11.2", {}, {}, {}, 7};
        if (!send_message(control, encode(ready))) return;
        while (!stop_.load()) {
            pollfd p{control, POLLIN, 0};
            if (::poll(&p, 1, 20) != 1) continue;
            auto msg = try_receive(control, sys::Step::zygote_protocol);
            if (!msg) return;  // EOF or garbage: this zygote is done
            if (!msg->has_value()) continue;
            auto run = decode_run((*msg)->body);
            if (!run || (*msg)->fds.empty()) continue;
            ++runs;
            std::vector<sys::UniqueFd> fds = std::move((*msg)->fds);
            if (answer_runs.load()) answer(fds.front().get());
            std::lock_guard lock(mu_);
            held_.push_back(std::move(fds));
        }
    }

    void answer(int run_sock) {
        const pid_t g = fork_pauser();
        auto pidfd = sys::open_pidfd(g);
        char tmpl[] = "/tmp/sbx-fake-zygote-XXXXXX";
        const char* dir = ::mkdtemp(tmpl);
        sys::UniqueFd dirfd{::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        {
            std::lock_guard lock(mu_);
            dirs_.emplace_back(dir);
        }
        if (!pidfd) return;
        sys::UniqueFd netns{::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)};
        const int fds[] = {pidfd->get(), dirfd.get(), netns.get()};
        (void)send_message(run_sock, encode(RunReadyMessage{}), fds);
    }

    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::vector<std::thread> threads_;
    std::vector<std::shared_ptr<sys::UniqueFd>> controls_;
    std::vector<std::vector<sys::UniqueFd>> held_;  // each run's fds, as the zygote got them
    std::vector<pid_t> children_;
    std::vector<std::filesystem::path> dirs_;
};

}  // namespace sbx::pool::testing
