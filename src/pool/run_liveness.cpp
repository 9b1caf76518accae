// G's live children, read from /proc; the group's members, read from the run's group.
#include "pool/run_liveness.h"

#include <poll.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace sbx::pool {
namespace {

// The state letter of /proc/<pid>/stat ('Z' zombie, 'X' dead), or 0 if it cannot be read.
char proc_state(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '\0';
}

}  // namespace

bool alone_in_group(const PreparedRun& run) {
    if (!run.group || run.g_pid == 0) return false;  // cannot tell: wait for the exit report
    const pid_t link = run.link ? run.link->pid() : 0;
    const auto members = run.group->members();
    return std::all_of(members.begin(), members.end(),
                       [&](pid_t p) { return p == run.g_pid || (link > 0 && p == link); });
}

bool has_live_children(pid_t pid) {
    std::error_code ec;
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : std::filesystem::directory_iterator{tasks, ec}) {
        std::ifstream in(task.path() / "children");
        if (!in) return true;
        for (std::string child; in >> child;) {
            const char state = proc_state(child);
            if (state != 'Z' && state != 'X') return true;
        }
    }
    return static_cast<bool>(ec);
}

bool confirm_alone_after_kill(const PreparedRun& run) {
    if (!has_live_children(run.g_pid)) return true;
    // Read while G's pid could not have been reused: G had not been reaped (its pidfd is not
    // readable). If it has exited meanwhile, so has every process of its namespace.
    pollfd p{run.pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

}  // namespace sbx::pool
