// Rendering of SysError and the Step names.
#include "sys/error.h"

#include <cerrno>
#include <cstring>
#include <system_error>

namespace sbx::sys {

std::string_view to_string(Step step) noexcept {
    switch (step) {
#define SBX_STEP(name) \
    case Step::name:   \
        return #name;
        SBX_STEP(open) SBX_STEP(read) SBX_STEP(write) SBX_STEP(close) SBX_STEP(stat)
        SBX_STEP(mkdir) SBX_STEP(rmdir) SBX_STEP(unlink) SBX_STEP(socket) SBX_STEP(sendmsg)
        SBX_STEP(recvmsg) SBX_STEP(pipe) SBX_STEP(fcntl) SBX_STEP(memfd) SBX_STEP(chown)
        SBX_STEP(poll) SBX_STEP(signal) SBX_STEP(waitpid) SBX_STEP(fork) SBX_STEP(clone)
        SBX_STEP(pidfd_open) SBX_STEP(pidfd_signal) SBX_STEP(uid_map) SBX_STEP(gid_map)
        SBX_STEP(setgroups) SBX_STEP(setuid) SBX_STEP(setgid) SBX_STEP(unshare) SBX_STEP(prctl)
        SBX_STEP(execve) SBX_STEP(capabilities) SBX_STEP(sethostname) SBX_STEP(mount_tmpfs)
        SBX_STEP(mount_bind)
        SBX_STEP(mount_remount) SBX_STEP(mount_proc) SBX_STEP(mount_private) SBX_STEP(make_dir)
        SBX_STEP(symlink) SBX_STEP(pivot_root) SBX_STEP(umount_old_root) SBX_STEP(chdir)
        SBX_STEP(seccomp_build) SBX_STEP(seccomp_load) SBX_STEP(rlimit) SBX_STEP(cgroup_detect)
        SBX_STEP(cgroup_create) SBX_STEP(cgroup_limit) SBX_STEP(cgroup_attach)
        SBX_STEP(cgroup_kill) SBX_STEP(cgroup_remove) SBX_STEP(cgroup_stat) SBX_STEP(workdir)
        SBX_STEP(write_input) SBX_STEP(collect_output) SBX_STEP(spawner_start)
        SBX_STEP(spawner_protocol) SBX_STEP(zygote_start) SBX_STEP(zygote_protocol)
        SBX_STEP(run_protocol) SBX_STEP(setns) SBX_STEP(firewall) SBX_STEP(network_start)
        SBX_STEP(network_ready) SBX_STEP(fork_run) SBX_STEP(drop_caps)
        SBX_STEP(set_ids) SBX_STEP(no_new_privs) SBX_STEP(mask_proc) SBX_STEP(cgroup_join)
        SBX_STEP(wait_go) SBX_STEP(internal) SBX_STEP(loopback_up)
        SBX_STEP(user_limits) SBX_STEP(net_limits) SBX_STEP(uid_pool)
#undef SBX_STEP
    }
    return "unknown";
}

std::string SysError::render() const {
    std::string out{to_string(step)};
    if (err != 0) {
        out += ": ";
        const char* name = strerrorname_np(err);
        out += name != nullptr ? name : std::to_string(err);
        out += " (";
        out += std::strerror(err);  // NOLINT(concurrency-mt-unsafe): glibc returns static text
        out += ")";
    }
    if (!detail.empty()) {
        out += " [";
        out += detail;
        out += "]";
    }
    return out;
}

SysError errno_error(Step step, std::string detail) {
    const int err = errno;
    return SysError{step, err, std::move(detail)};
}

void throw_exception_from_error(const SysError& e, const boost::source_location& /*loc*/) {
    throw std::system_error(e.err, std::generic_category(), e.render());
}

}  // namespace sbx::sys
