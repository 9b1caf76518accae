// Builds the zygote's root-fs plan, argv and environment (parent side, before clone).
#include <sys/mount.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <system_error>

#include "sandbox/child_plan.h"
#include "sandbox/sandbox_ids.h"

namespace sbx::sandbox {
namespace {

namespace fs = std::filesystem;
using sys::Step;

// Read-only binds: nosuid (no setuid binary gains anything), nodev (no device nodes).
constexpr std::uint64_t kRoAttrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
// Device binds stay writable (/dev/null must accept writes) but never exec or setuid.
constexpr std::uint64_t kDevAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;

// /etc entries Python and its libraries read; bound read-only when present on the host.
// Never shadow, gshadow, sudoers, ssh: nothing secret enters the sandbox.
constexpr std::array kEtcEntries = {
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "localtime", "ssl",
    "ca-certificates", "matplotlibrc", "mime.types", "fonts", "gai.conf",
    "protocols", "services",
    // Debian's alternatives links: libblas.so.3 and liblapack.so.3 (numpy) resolve through it.
    "alternatives",
};
constexpr std::array kDevNodes = {"null", "zero", "full", "random", "urandom"};

class PlanBuilder {
public:
    explicit PlanBuilder(ChildPlan& plan) : plan_(plan) {}
    void add(OpKind kind, Step step, std::string_view rel, std::string arg = {},
             std::uint64_t flags = 0) {
        plan_.ops.push_back(PlanOp{kind, step, path(rel), std::move(arg), flags});
    }
    // Bind of an existing host path (file or directory) at the same place under the root.
    void bind_existing(const fs::path& host, std::string_view rel, std::uint64_t attrs) {
        std::error_code ec;
        const bool dir = fs::is_directory(host, ec);  // follows symlinks, like mount does
        if (!dir && !fs::exists(host, ec)) return;
        add(dir ? OpKind::make_dir : OpKind::make_file, Step::make_dir, rel);
        add(OpKind::bind, Step::mount_bind, rel, host.string(), attrs);
    }
    [[nodiscard]] std::string path(std::string_view rel) const {
        std::string p = plan_.stage;
        if (!rel.empty()) (p += '/') += rel;
        return p;
    }

private:
    ChildPlan& plan_;
};

void plan_etc(PlanBuilder& b, const ZygoteSpec& spec) {
    b.add(OpKind::make_dir, Step::make_dir, "etc");
    const std::string id = std::to_string(kPythonSandboxUid);
    b.add(OpKind::write_file, Step::write, "etc/passwd",
          "root:x:0:0:root:/tmp:/usr/sbin/nologin\nsandbox:x:" + id + ":" + id +
              ":sandbox:/work:/usr/sbin/nologin\n");
    b.add(OpKind::write_file, Step::write, "etc/group", "root:x:0:\nsandbox:x:" + id + ":\n");
    b.add(OpKind::write_file, Step::write, "etc/hosts",
          "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost ip6-loopback\n");
    b.add(OpKind::write_file, Step::write, "etc/hostname", "sandbox\n");
    // Never the host's: its resolvers are not the run's (slirp4netns's forwarder with egress).
    b.add(OpKind::write_file, Step::write, "etc/resolv.conf",
          spec.resolv_conf.empty() ? "# no resolver\n" : spec.resolv_conf);
    for (const char* name : kEtcEntries) {
        b.bind_existing(fs::path{"/etc"} / name, std::string{"etc/"} + name, kRoAttrs);
    }
    std::error_code ec;
    std::vector<std::string> pythons;  // python3/, python3.11/, ...: site config of Debian
    for (const auto& e : fs::directory_iterator{"/etc", ec}) {
        const auto name = e.path().filename().string();
        if (name.starts_with("python3")) pythons.push_back(name);
    }
    std::sort(pythons.begin(), pythons.end());
    for (const auto& name : pythons) b.bind_existing("/etc/" + name, "etc/" + name, kRoAttrs);
}

void plan_dev(PlanBuilder& b) {
    // Small tmpfs: only nodes, links and the shm mount point live here; noexec, nosuid.
    b.add(OpKind::tmpfs, Step::mount_tmpfs, "dev", "mode=0755,size=64k,nr_inodes=64",
          MS_NOSUID | MS_NOEXEC);
    for (const char* node : kDevNodes) {
        b.add(OpKind::make_file, Step::make_dir, std::string{"dev/"} + node);
        b.add(OpKind::bind, Step::mount_bind, std::string{"dev/"} + node,
              std::string{"/dev/"} + node, kDevAttrs);
    }
    b.add(OpKind::symlink, Step::symlink, "dev/fd", "/proc/self/fd");
    b.add(OpKind::symlink, Step::symlink, "dev/stdin", "/proc/self/fd/0");
    b.add(OpKind::symlink, Step::symlink, "dev/stdout", "/proc/self/fd/1");
    b.add(OpKind::symlink, Step::symlink, "dev/stderr", "/proc/self/fd/2");
    b.add(OpKind::make_dir, Step::make_dir, "dev/shm");
    // Read-only afterwards: nothing may create device nodes or files in /dev.
    b.add(OpKind::set_attr, Step::mount_remount, "dev", {}, MOUNT_ATTR_RDONLY);
}

void plan_root(PlanBuilder& b, const ZygoteSpec& spec) {
    // Root tmpfs: holds only mount points, links and the generated /etc files.
    b.add(OpKind::tmpfs, Step::mount_tmpfs, "", "mode=0755,size=1m", MS_NOSUID | MS_NODEV);
    for (const char* dir : {"usr", "opt", "opt/pysandbox", "proc", "dev", "tmp", "work"}) {
        b.add(OpKind::make_dir, Step::make_dir, dir);
    }
    b.add(OpKind::bind, Step::mount_bind, "usr", "/usr", kRoAttrs);
    std::error_code ec;
    for (const char* link : {"bin", "lib", "lib64", "sbin", "lib32", "libx32"}) {
        const std::string target = std::string{"usr/"} + link;
        if (fs::is_directory(fs::path{"/"} / target, ec)) {
            b.add(OpKind::symlink, Step::symlink, link, target);
        }
    }
    plan_etc(b, spec);
    b.add(OpKind::bind, Step::mount_bind, "opt/pysandbox", spec.runtime_dir.string(), kRoAttrs);
    b.add(OpKind::proc, Step::mount_proc, "proc");
    // /proc/sys/user of the zygote's user namespace: limits per uid of it, i.e. per run.
    for (const auto& limit : spec.user_limits) {
        const auto eq = limit.find('=');
        b.add(OpKind::sysctl, Step::user_limits, "proc/sys/user/" + limit.substr(0, eq),
              limit.substr(eq + 1));
    }
    plan_dev(b);
    // The zygote's own caches; each run mounts its own /tmp over it.
    b.add(OpKind::tmpfs, Step::mount_tmpfs, "tmp",
          "mode=1777,size=" + std::to_string(spec.tmp_bytes), MS_NOSUID | MS_NODEV);
}

std::string join(const std::vector<std::string>& items, char sep) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

void plan_exec(ChildPlan& plan, const ZygoteSpec& spec) {
    plan.python = spec.python.string();
    plan.argv_storage = {plan.python, "-I", "-B", "/opt/pysandbox/" + spec.script};
    plan.env_storage = {
        "PYSANDBOX_MODE=" + spec.mode,
        "PYSANDBOX_PRELOAD=" + join(spec.preload, ','),
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "LANG=C.UTF-8",
        "HOME=/tmp",
        "MPLBACKEND=Agg",
        "MPLCONFIGDIR=/tmp/.matplotlib",
        "OPENBLAS_NUM_THREADS=1",
        "OMP_NUM_THREADS=1",
        "MKL_NUM_THREADS=1",
        "NUMEXPR_NUM_THREADS=1",
    };
    for (const auto& e : spec.extra_env) plan.env_storage.push_back(e);
    for (auto& s : plan.argv_storage) plan.argv.push_back(s.data());
    plan.argv.push_back(nullptr);
    for (auto& s : plan.env_storage) plan.envp.push_back(s.data());
    plan.envp.push_back(nullptr);
}

}  // namespace

sys::Result<ChildPlan> build_zygote_plan(const ZygoteSpec& spec, const fs::path& stage) {
    if (spec.runtime_dir.empty() || !spec.runtime_dir.is_absolute()) {
        return sys::SysError{Step::zygote_start, EINVAL, "runtime_dir must be absolute"};
    }
    if (spec.script.empty() || spec.script.find('/') != std::string::npos) {
        return sys::SysError{Step::zygote_start, EINVAL, "bad script name: " + spec.script};
    }
    for (const auto& limit : spec.user_limits) {
        const auto eq = limit.find('=');
        if (eq == 0 || eq == std::string::npos || limit.find('/') != std::string::npos) {
            return sys::SysError{Step::user_limits, EINVAL, "bad user limit: " + limit};
        }
    }
    ChildPlan plan;
    plan.stage = stage.string();
    PlanBuilder b{plan};
    plan_root(b, spec);
    plan_exec(plan, spec);
    plan.fail_at = spec.fault_injection;
    return plan;
}

std::string describe_failure(const ChildPlan& plan, const ChildFailure& f) {
    if (f.op_index >= 0 && static_cast<std::size_t>(f.op_index) < plan.ops.size()) {
        const auto& op = plan.ops[static_cast<std::size_t>(f.op_index)];
        std::string inside = op.dst.substr(plan.stage.size());
        if (inside.empty()) inside = "/";
        return op.kind == OpKind::bind ? op.arg + " -> " + inside : inside;
    }
    if (f.step == Step::execve) return plan.python;
    return plan.stage;
}

}  // namespace sbx::sandbox
