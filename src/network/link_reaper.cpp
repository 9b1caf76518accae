// LinkReaper: one thread polling the pidfds of dying stacks.
#include "network/link_reaper.h"

#include <poll.h>
#include <sys/eventfd.h>

#include "log/log.h"
#include "sys/eintr.h"

namespace sbx::network {

LinkReaper::LinkReaper() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!wake_) log::error("link reaper: eventfd failed; stacks are reaped on shutdown only");
    thread_ = std::thread([this] { loop(); });
}

LinkReaper::~LinkReaper() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    const std::uint64_t one = 1;
    if (wake_) (void)!::write(wake_.get(), &one, sizeof one);
    thread_.join();
    std::lock_guard lock(mu_);
    dying_.clear();  // ChildProcess: SIGKILL + reap; then the gids go back
}

void LinkReaper::adopt(sys::ChildProcess process, GidLease gid) {
    {
        std::lock_guard lock(mu_);
        dying_.push_back(Dying{std::move(gid), std::move(process)});
    }
    const std::uint64_t one = 1;
    if (wake_) (void)!::write(wake_.get(), &one, sizeof one);
}

std::size_t LinkReaper::pending() const {
    std::lock_guard lock(mu_);
    return dying_.size();
}

void LinkReaper::loop() {
    std::vector<pollfd> fds;
    while (true) {
        fds.clear();
        fds.push_back(pollfd{wake_.get(), POLLIN, 0});
        {
            std::lock_guard lock(mu_);
            if (stop_) return;
            for (const auto& d : dying_) fds.push_back(pollfd{d.process.pidfd(), POLLIN, 0});
        }
        if (sys::retry_eintr([&] { return ::poll(fds.data(), fds.size(), wake_ ? -1 : 1000); }) < 0) {
            continue;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            std::uint64_t n = 0;
            (void)!::read(wake_.get(), &n, sizeof n);
        }
        std::vector<Dying> done;
        {
            std::lock_guard lock(mu_);
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
                for (auto it = dying_.begin(); it != dying_.end(); ++it) {
                    if (it->process.pidfd() == fds[i].fd) {
                        done.push_back(std::move(*it));
                        dying_.erase(it);
                        break;
                    }
                }
            }
        }
        done.clear();  // exited: the reap does not block; then each gid returns to the pool
    }
}

}  // namespace sbx::network
