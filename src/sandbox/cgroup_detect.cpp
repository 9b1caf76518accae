// Picks the cgroup backend once at start-up; RunCgroup's forwarding; the "none" manager.
#include <filesystem>

#include "sandbox/cgroup.h"
#include "sandbox/cgroup_backends.h"

namespace sbx::sandbox {
namespace {

// No usable cgroups (not root, no delegation): runs get no group; rlimits are the only limits.
class NoneManager final : public CgroupManager {
public:
    explicit NoneManager(std::string reason) : reason_(std::move(reason)) {}
    CgroupVersion version() const noexcept override { return CgroupVersion::none; }
    std::string describe() const override { return "no cgroups (rlimits only): " + reason_; }
    SocketAccounting socket_accounting() const override {
        return {false, "no memory cgroup: socket buffers uncounted"};
    }
    sys::Result<RunCgroup> create_run(const std::string& /*run_id*/,
                                      const CgroupLimits& /*limits*/) const override {
        return RunCgroup{};
    }
    sys::Result<void> cleanup_leftovers() const override { return {}; }

private:
    std::string reason_;
};

}  // namespace

std::string_view to_string(CgroupVersion v) noexcept {
    switch (v) {
        case CgroupVersion::none:
            return "none";
        case CgroupVersion::v1:
            return "v1";
        case CgroupVersion::v2:
            return "v2";
    }
    return "unknown";
}

std::unique_ptr<CgroupManager> make_cgroup_none(std::string reason) {
    return std::make_unique<NoneManager>(std::move(reason));
}

std::unique_ptr<CgroupManager> detect_cgroups(const CgroupDetectOptions& options) {
    std::string why_v2;
    std::string why_v1;
    std::error_code ec;
    // Pure v2: the mount root itself is cgroup2. A v1 hybrid's "unified" mount is ignored.
    if (std::filesystem::exists(options.mount_root / "cgroup.controllers", ec)) {
        if (auto m = make_cgroup_v2(options, why_v2)) return m;
    } else {
        why_v2 = "cgroup v2: " + options.mount_root.string() + " is not a cgroup2 mount";
    }
    if (auto m = make_cgroup_v1(options, why_v1)) return m;
    return make_cgroup_none(why_v2 + "; " + why_v1);
}

RunCgroup::RunCgroup(std::unique_ptr<RunCgroupBackend> backend) noexcept
    : backend_(std::move(backend)) {}

RunCgroup& RunCgroup::operator=(RunCgroup&& other) noexcept {
    if (this != &other) {
        if (backend_) (void)backend_->remove();
        backend_ = std::move(other.backend_);
    }
    return *this;
}

RunCgroup::~RunCgroup() {
    if (backend_) (void)backend_->remove();
}

sys::Result<std::vector<sys::UniqueFd>> RunCgroup::open_procs_fds() const {
    if (!backend_) return std::vector<sys::UniqueFd>{};
    return backend_->open_procs_fds();
}

sys::Result<CgroupStats> RunCgroup::stats() const {
    if (!backend_) return CgroupStats{};
    return backend_->stats();
}

sys::Result<void> RunCgroup::kill() {
    if (!backend_) return {};
    return backend_->kill();
}

std::vector<pid_t> RunCgroup::members() const {
    if (!backend_) return {};
    return backend_->members();
}

sys::Result<void> RunCgroup::remove() {
    if (!backend_) return {};
    return backend_->remove();
}

std::vector<std::filesystem::path> RunCgroup::dirs() const {
    if (!backend_) return {};
    return backend_->dirs();
}

}  // namespace sbx::sandbox
