// Zygote: one pre-started Python process in its base sandbox, as seen from the server.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "pool/channel.h"
#include "sys/error.h"
#include "sys/unique_fd.h"

namespace sbx::pool {

enum class ZygoteKind : std::uint8_t { lean, full, cold };
std::string_view to_string(ZygoteKind k);

// What the spawner hands back for a new zygote.
struct ZygoteProcess {
    sys::UniqueFd pidfd;
    sys::UniqueFd control;  // SEQPACKET, our end
    int pid = -1;           // host pid, for logs
};

struct ZygoteSpec {
    ZygoteKind kind = ZygoteKind::lean;
    std::vector<std::string> preload;
};

// Starts zygote processes (the spawner in production, a fake in tests). Blocking; thread-safe.
class ZygoteLauncher {
public:
    virtual ~ZygoteLauncher() = default;
    virtual sys::Result<ZygoteProcess> launch(const ZygoteSpec& spec) = 0;
};

struct ZygoteInfo {
    std::string python_version;
    std::vector<std::string> preloaded;
    std::map<std::string, std::string> failed;    // module -> error
    std::map<std::string, std::string> packages;  // name -> version
    std::uint32_t seccomp_instructions = 0;       // the runs' filter as loaded (0: none)
};

class Zygote : public std::enable_shared_from_this<Zygote> {
public:
    Zygote(const boost::asio::any_io_executor& ex, ZygoteKind kind, ZygoteProcess proc);
    ~Zygote();
    Zygote(const Zygote&) = delete;
    Zygote& operator=(const Zygote&) = delete;

    // Waits for the zygote's "ready" message (preloading done), at most `timeout`.
    boost::asio::awaitable<sys::Result<void>> wait_ready(std::chrono::milliseconds timeout);
    // Reads the control socket until EOF; then marks the zygote dead.
    boost::asio::awaitable<void> watch();

    // Sends a run request with its fds. Thread-safe.
    [[nodiscard]] sys::Result<void> send_run(const boost::json::object& body, std::span<const int> fds);
    // Cold zygotes: no more runs; it exits once its run ends.
    void finish();
    // Kills the zygote and, with it, every run it forked (they share its pid namespace).
    void kill();

    [[nodiscard]] bool alive() const { return alive_.load(); }
    [[nodiscard]] ZygoteKind kind() const { return kind_; }
    [[nodiscard]] int pid() const { return pid_; }
    [[nodiscard]] const ZygoteInfo& info() const { return info_; }

private:
    ZygoteKind kind_;
    sys::UniqueFd pidfd_;
    int pid_;
    int control_fd_;  // owned by channel_; kept for sends from any thread
    Channel channel_;
    std::atomic<bool> alive_{true};
    ZygoteInfo info_;
};

}  // namespace sbx::pool
