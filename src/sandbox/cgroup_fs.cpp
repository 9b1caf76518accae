// Small file helpers shared by the cgroup backends: control-file I/O, own-cgroup lookup, removal.
#include "sandbox/cgroup_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <csignal>
#include <fstream>
#include <thread>

#include "sys/eintr.h"
#include "sys/unique_fd.h"

namespace sbx::sandbox::cgfs {

sys::Result<void> write(const fs::path& file, std::string_view value, sys::Step step) {
    const sys::UniqueFd fd{::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)};
    if (!fd) return sys::errno_error(step, file.string());
    const auto n = sys::retry_eintr([&] { return ::write(fd.get(), value.data(), value.size()); });
    if (n != static_cast<ssize_t>(value.size())) {
        return sys::errno_error(step, file.string() + " <- " + std::string{value});
    }
    return {};
}

sys::Result<std::string> read(const fs::path& file, sys::Step step) {
    const sys::UniqueFd fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) return sys::errno_error(step, file.string());
    std::string out;
    std::array<char, 4096> buf{};
    for (;;) {
        const auto n = sys::retry_eintr([&] { return ::read(fd.get(), buf.data(), buf.size()); });
        if (n < 0) return sys::errno_error(step, file.string());
        if (n == 0) return out;
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
}

sys::Result<std::uint64_t> read_u64(const fs::path& file, sys::Step step, std::string_view key) {
    SBX_TRY(std::string text, read(file, step));
    std::string_view v{text};
    if (!key.empty()) {
        std::size_t pos = 0;
        for (;;) {
            if (v.substr(pos).starts_with(key) && v.size() > pos + key.size() &&
                v[pos + key.size()] == ' ') {
                break;
            }
            pos = v.find('\n', pos);
            if (pos == std::string_view::npos) return sys::SysError{step, ENODATA, file.string()};
            ++pos;
        }
        v.remove_prefix(pos + key.size() + 1);
    }
    std::uint64_t out = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    if (r.ec != std::errc{}) return sys::SysError{step, EPROTO, file.string()};
    return out;
}

std::vector<pid_t> read_pids(const fs::path& procs_file) {
    std::vector<pid_t> pids;
    std::ifstream in{procs_file};
    for (pid_t pid = 0; in >> pid;) pids.push_back(pid);
    return pids;
}

std::map<std::string, std::string> own_cgroups(const fs::path& self_cgroup) {
    std::map<std::string, std::string> out;
    std::ifstream in{self_cgroup};
    for (std::string line; std::getline(in, line);) {
        const auto a = line.find(':');
        const auto b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1);
        const std::string path = line.substr(b + 1);
        if (controllers.empty()) {
            out[""] = path;
            continue;
        }
        std::size_t start = 0;
        for (std::size_t end = 0; end != std::string::npos; start = end + 1) {
            end = controllers.find(',', start);
            out[controllers.substr(start, end - start)] = path;
        }
    }
    return out;
}

bool valid_run_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

sys::Result<void> make_dir(const fs::path& dir, bool exist_ok) {
    if (::mkdir(dir.c_str(), 0755) != 0 && !(exist_ok && errno == EEXIST)) {
        return sys::errno_error(sys::Step::cgroup_create, dir.string());
    }
    return {};
}

sys::Result<void> make_run_dir(const fs::path& dir, const std::function<sys::Result<void>()>& remake) {
    auto made = make_dir(dir, false);
    if (made || made.error().err != ENOENT) return made;
    SBX_TRY_VOID(make_dir(dir.parent_path(), true));
    if (remake) SBX_TRY_VOID(remake());
    return make_dir(dir, false);
}

bool kill_until_empty(const fs::path& procs, std::chrono::milliseconds budget, bool signal) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (;;) {
        const auto pids = read_pids(procs);
        if (pids.empty()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (signal) {
            for (const pid_t pid : pids) (void)::kill(pid, SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::microseconds{200});
    }
}

sys::Result<void> remove_dir(const fs::path& dir) {
    // EBUSY right after the last process died: the kernel is still releasing it; retry ~50 ms.
    for (int attempt = 0; attempt < 250; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
        if (errno != EBUSY) break;
        std::this_thread::sleep_for(std::chrono::microseconds{200});
    }
    return sys::errno_error(sys::Step::cgroup_remove, dir.string());
}

bool owned_by_live_server(std::string_view name) {
    if (name.size() < 3 || name.front() != 'p') return false;
    const auto dash = name.find('-');
    if (dash == std::string_view::npos || dash < 2) return false;
    pid_t pid = 0;
    auto [ptr, ec] = std::from_chars(name.data() + 1, name.data() + dash, pid);
    if (ec != std::errc{} || ptr != name.data() + dash || pid <= 0 || pid == ::getpid()) return false;
    return ::kill(pid, 0) == 0 || errno == EPERM;  // EPERM: alive, someone else's
}

}  // namespace sbx::sandbox::cgfs
