// The runs' seccomp rules (one line of why per rule) and their export to raw BPF in a memfd.
#include "sandbox/seccomp_policy.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

namespace sbx::sandbox {
namespace {

using sys::Result;
using sys::Step;

struct Deny {
    const char* name;
    const char* why;
};

// Denied with EPERM unconditionally. Names unknown to this libseccomp/arch are skipped.
constexpr Deny kDenied[] = {
    {"mount", "no file-system changes: the run's mounts are made before the filter"},
    {"umount2", "cannot uncover what the sandbox mounted over"},
    {"pivot_root", "root change is set-up only"},
    {"chroot", "root change is set-up only; also a classic escape ingredient"},
    {"unshare", "new namespaces give fresh capabilities (user ns) and attack surface"},
    {"setns", "joining other namespaces"},
    {"ptrace", "inspecting/controlling other processes"},
    {"process_vm_readv", "reading another process's memory"},
    {"process_vm_writev", "writing another process's memory"},
    {"kexec_load", "loading a new kernel"},
    {"kexec_file_load", "loading a new kernel"},
    {"init_module", "kernel modules"},
    {"finit_module", "kernel modules"},
    {"delete_module", "kernel modules"},
    {"create_module", "kernel modules (obsolete)"},
    {"reboot", "host power state"},
    {"swapon", "host swap"},
    {"swapoff", "host swap"},
    {"bpf", "eBPF programs and maps: large kernel attack surface"},
    {"perf_event_open", "perf: kernel attack surface, side channels"},
    {"userfaultfd", "used to widen kernel race windows in exploits"},
    {"keyctl", "keyrings are not namespaced: would leak between runs"},
    {"add_key", "keyrings are not namespaced"},
    {"request_key", "keyrings are not namespaced"},
    {"io_uring_setup", "io_uring: large kernel attack surface, bypasses syscall filters"},
    {"io_uring_enter", "io_uring"},
    {"io_uring_register", "io_uring"},
    {"syslog", "kernel log: kernel addresses, host activity"},
    {"settimeofday", "host clock"},
    {"clock_settime", "host clock"},
    {"clock_adjtime", "host clock"},
    {"adjtimex", "host clock"},
    {"acct", "process accounting is host-wide"},
    {"quotactl", "disk quotas"},
    {"quotactl_fd", "disk quotas"},
    {"open_by_handle_at", "opens files by handle, bypassing the mount tree (shocker escape)"},
    {"name_to_handle_at", "file handles, pairs with open_by_handle_at"},
    {"lookup_dcookie", "kernel profiling interface"},
    {"fanotify_init", "file-system wide monitoring"},
    {"io_setup", "Linux AIO: its event quota (fs.aio-max-nr) is one for the whole host"},
    {"mount_setattr", "new mount API: same as mount"},
    {"move_mount", "new mount API"},
    {"open_tree", "new mount API"},
    {"fsopen", "new mount API"},
    {"fsconfig", "new mount API"},
    {"fsmount", "new mount API"},
    {"fspick", "new mount API"},
    {"pidfd_getfd", "stealing another process's fds"},
    {"iopl", "raw I/O port access"},
    {"ioperm", "raw I/O port access"},
    {"vm86", "legacy virtual 8086 mode"},
    {"vm86old", "legacy virtual 8086 mode"},
    {"uselib", "obsolete shared-library loader"},
    {"ustat", "obsolete file-system statistics"},
    {"sysfs", "obsolete file-system type information"},
    {"nfsservctl", "NFS server control (removed)"},
    {"kcmp", "compares kernel objects of other processes (ASLR/KASLR probing)"},
    {"_sysctl", "obsolete sysctl interface"},
    {"get_kernel_syms", "kernel symbols"},
    {"query_module", "kernel modules"},
    {"vhangup", "terminal hang-up"},
    {"sethostname", "hostname is fixed to 'sandbox'"},
    {"setdomainname", "domain name is fixed"},
};

// Each flag of clone() that creates a namespace (CLONE_NEWTIME is not a clone() flag: its bit
// is part of the exit signal there).
constexpr std::uint64_t kCloneNsFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,
                                           CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                                           CLONE_NEWCGROUP};

// personality: allowed are PER_LINUX (0), PER_LINUX32 (bit 3), UNAME26 (bit 17), their union,
// and the query 0xffffffff (as Docker). Anything else (ADDR_NO_RANDOMIZE: ASLR off,
// READ_IMPLIES_EXEC, ...) is denied. libseccomp allows one comparison per argument and rule,
// so "not the query" is spelled with bits: a value with a bit set that is not the query has
// some other bit of the low 32 clear.
constexpr std::uint64_t kPersonalityOkBits = 0x8 | 0x20000;
constexpr std::uint64_t kBit31 = 1ULL << 31;
constexpr std::uint64_t kPersonalityQuery = 0xffffffffU;
constexpr std::uint64_t kLow32 = 0xffffffffU;

// Denied like kDenied, for system calls newer than the libseccomp the server is built with:
// named when it knows them, else by their x86_64 number (the filter admits x86_64 only).
struct NewDeny {
    const char* name;
    int x86_64_nr;
    const char* why;
};
constexpr NewDeny kDeniedNew[] = {
    {"open_tree_attr", 467, "new mount API (Linux 6.15): open_tree with mount attributes"},
};

struct CtxDeleter {
    void operator()(scmp_filter_ctx ctx) const noexcept { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

sys::SysError build_error(int rc, const char* what) {
    return sys::SysError{Step::seccomp_build, -rc, what};  // libseccomp returns -errno
}

Result<void> add(const Ctx& ctx, std::uint32_t action, const char* name,
                 std::initializer_list<scmp_arg_cmp> args = {}) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return {};  // not a syscall here (e.g. vm86 on x86_64)
    const int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(args.size()),
                                          args.size() != 0 ? args.begin() : nullptr);
    if (rc != 0) return build_error(rc, name);
    return {};
}

Result<void> add_new(const Ctx& ctx, const NewDeny& d) {
    int nr = seccomp_syscall_resolve_name(d.name);
    if (nr == __NR_SCMP_ERROR) nr = d.x86_64_nr;
    const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0);
    if (rc != 0) return build_error(rc, d.name);
    return {};
}

Result<void> add_personality_rules(const Ctx& ctx) {
    const auto eperm = SCMP_ACT_ERRNO(EPERM);
    for (unsigned b = 0; b < 31; ++b) {
        const std::uint64_t bit = 1ULL << b;
        // Bit 31 set and bit b clear: neither an allowed value nor the query.
        SBX_TRY_VOID(add(ctx, eperm, "personality",
                         {SCMP_A0(SCMP_CMP_MASKED_EQ, kBit31 | bit, kBit31)}));
        if ((bit & kPersonalityOkBits) != 0) continue;
        // A forbidden flag with bit 31 clear: cannot be the query.
        SBX_TRY_VOID(add(ctx, eperm, "personality",
                         {SCMP_A0(SCMP_CMP_MASKED_EQ, kBit31 | bit, bit)}));
    }
    // Bits above 32: the kernel truncates the argument to unsigned int, so 1<<32|x means x.
    return add(ctx, eperm, "personality", {SCMP_A0(SCMP_CMP_GT, kPersonalityQuery)});
}

Result<void> add_conditional_rules(const Ctx& ctx) {
    const auto eperm = SCMP_ACT_ERRNO(EPERM);
    // clone with any namespace flag: same reason as unshare (x86_64: flags are arg0).
    for (const auto flag : kCloneNsFlags) {
        SBX_TRY_VOID(add(ctx, eperm, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)}));
    }
    // clone3 passes flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
    SBX_TRY_VOID(add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3"));
    // AF_VSOCK reaches the hypervisor host; it is not namespaced. The kernel reads the family
    // as an int: compare the low 32 bits only, or 0x1'00000028 would pass as a different value.
    SBX_TRY_VOID(add(ctx, eperm, "socket", {SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, AF_VSOCK)}));
    SBX_TRY_VOID(add_personality_rules(ctx));
    return {};
}

Result<std::vector<sock_filter>> export_bpf(const Ctx& ctx) {
    const sys::UniqueFd fd{::memfd_create("pysandbox-bpf", MFD_CLOEXEC)};
    if (!fd) return sys::errno_error(Step::memfd, "bpf export");
    const int rc = seccomp_export_bpf(ctx.get(), fd.get());
    if (rc != 0) return build_error(rc, "seccomp_export_bpf");
    const off_t size = ::lseek(fd.get(), 0, SEEK_CUR);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
        return sys::SysError{Step::seccomp_build, EPROTO, "bpf size"};
    }
    std::vector<sock_filter> prog(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(fd.get(), prog.data(), static_cast<std::size_t>(size), 0) != size) {
        return sys::errno_error(Step::seccomp_build, "bpf read back");
    }
    return prog;
}

}  // namespace

Result<std::vector<sock_filter>> build_run_filter() {
    const Ctx ctx{seccomp_init(SCMP_ACT_ALLOW)};
    if (!ctx) return sys::SysError{Step::seccomp_build, ENOMEM, "seccomp_init"};
    // Any other ABI (i386 via int 0x80, x32 via the 0x40000000 bit) bypasses x86_64 numbers:
    // kill the whole process rather than return an errno it could probe around.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc != 0) return build_error(rc, "ACT_BADARCH");
    // A binary search on the syscall number instead of a linear list: every allowed syscall
    // of a run would otherwise walk past all the denied ones first (libseccomp >= 2.5).
    rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc != 0) return build_error(rc, "CTL_OPTIMIZE");
    for (const auto& d : kDenied) SBX_TRY_VOID(add(ctx, SCMP_ACT_ERRNO(EPERM), d.name));
    for (const auto& d : kDeniedNew) SBX_TRY_VOID(add_new(ctx, d));
    SBX_TRY_VOID(add_conditional_rules(ctx));
    return export_bpf(ctx);
}

Result<sys::UniqueFd> filter_memfd(std::span<const sock_filter> filter) {
    sys::UniqueFd fd{::memfd_create("pysandbox-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING)};
    if (!fd) return sys::errno_error(Step::memfd, "seccomp filter");
    const auto bytes = static_cast<ssize_t>(filter.size_bytes());
    if (::write(fd.get(), filter.data(), filter.size_bytes()) != bytes) {
        return sys::errno_error(Step::memfd, "write filter");
    }
    // Sealed: neither the zygote nor a run can alter the filter later runs load.
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) !=
            0 ||
        ::lseek(fd.get(), 0, SEEK_SET) != 0) {
        return sys::errno_error(Step::memfd, "seal filter");
    }
    return fd;
}

}  // namespace sbx::sandbox
