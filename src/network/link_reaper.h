// LinkReaper: waits for killed network stacks off the request path.
//
// A slirp4netns process takes ~20 ms to die: closing its tap fd unregisters the run's tap
// device, which waits for RCU grace periods. The response must not wait for that, and the
// stack's gid must not be reused before the process is gone; so a killed stack is handed
// here with its gid, and one thread reaps it and then frees the gid.
#pragma once

#include <mutex>
#include <thread>
#include <vector>

#include "network/gid_pool.h"
#include "sys/child_process.h"
#include "sys/unique_fd.h"

namespace sbx::network {

class LinkReaper {
public:
    LinkReaper();
    LinkReaper(const LinkReaper&) = delete;
    LinkReaper& operator=(const LinkReaper&) = delete;
    ~LinkReaper();  // kills and reaps whatever is still pending (blocking), then joins

    // Takes a stack that was sent SIGKILL (or is about to exit) and its gid.
    void adopt(sys::ChildProcess process, GidLease gid);
    [[nodiscard]] std::size_t pending() const;

private:
    struct Dying {
        GidLease gid;                // destroyed second: freed once the process is reaped
        sys::ChildProcess process;  // destroyed first
    };
    void loop();

    mutable std::mutex mu_;
    std::vector<Dying> dying_;
    sys::UniqueFd wake_;  // eventfd: a new adoption or stop
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace sbx::network
