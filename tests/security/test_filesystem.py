"""File-system escapes: host secrets, host writes, read-only root, /dev, /sys, nosuid, links."""
import errno
import os

from conftest import marker


def test_etc_shadow_is_absent_and_no_hash_leaks(run, host_clean):
    code = r"""
import json, os
out = {}
for p in ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/root/.bash_history", "/etc/sudoers"):
    try:
        with open(p, "rb") as f:
            out[p] = "READ:" + f.read().decode(errors="replace")
    except OSError as e:
        out[p] = e.errno
print(json.dumps(out))
"""
    r = run(code)
    res = r.result()
    for path, got in res.items():
        assert got in (errno.ENOENT, errno.EACCES), (path, got)
    # Nothing of the host's shadow file (its password hashes) in any output.
    with open("/etc/shadow") as f:
        hashes = [line.split(":")[1] for line in f if line.count(":") > 2]
    for h in hashes:
        if len(h) > 3:
            assert h not in r["stdout"] + r["stderr"]


def test_host_users_and_sources_are_not_visible(run):
    code = r"""
import json, os
print(json.dumps({p: os.path.exists(p) for p in
    ("/root", "/home", "/work/main", "/var", "/srv", "/boot", "/etc/shadow", "/var/run/docker.sock",
     "/run", "/sys")}))
"""
    res = run(code).result()
    assert res == {p: False for p in res}, res


def test_passwd_is_the_generated_one(run):
    r = run("print(open('/etc/passwd').read())")
    assert r["status"] == "ok"
    users = {line.split(":")[0]: line.split(":")[2] for line in r["stdout"].splitlines() if line}
    assert users.get("sandbox") == "1000", users
    with open("/etc/passwd") as f:
        host_users = {line.split(":")[0] for line in f if line.strip()}
    extra = set(users) - {"root", "sandbox", "nobody"}
    assert not (extra & host_users), "host accounts visible in the sandbox: %s" % extra


def test_write_to_host_tmp_and_root_lands_nowhere(run, host_clean):
    m = marker("w")
    host_clean.append(m)
    code = r"""
import json, os
M = %r
out = {}
for p in ("/tmp/" + M, "/root/" + M, "/" + M, "/var/tmp/" + M, "/dev/shm/" + M, "/work/" + M,
          "/usr/" + M, "/etc/" + M, "/opt/pysandbox/" + M, "/proc/" + M, "/dev/" + M):
    try:
        with open(p, "w") as f:
            f.write(M)
        out[p] = "written"
    except OSError as e:
        out[p] = e.errno
os.remove("/work/" + M)  # not an output file
print(json.dumps(out))
""" % m
    res = run(code).result()
    # /tmp, /dev/shm and /work are the run's own tmpfs: the writes succeed but stay inside.
    assert res["/tmp/" + m] == "written"
    assert res["/dev/shm/" + m] == "written"
    assert res["/work/" + m] == "written"
    for p in ("/root/", "/var/tmp/"):
        assert res[p + m] == errno.ENOENT, (p, res[p + m])  # no such dir in the sandbox root
    for p in ("/", "/usr/", "/etc/", "/opt/pysandbox/", "/dev/"):
        assert res[p + m] == errno.EROFS, (p, res[p + m])
    assert res["/proc/" + m] in (errno.ENOENT, errno.EACCES), res["/proc/" + m]
    for p in ("/tmp", "/root", "/", "/var/tmp", "/dev/shm"):
        assert not os.path.exists(os.path.join(p, m)), "marker written on the host: " + p


def test_tmp_is_private_to_the_run(run, host_clean):
    m = marker("t")
    host_clean.append(m)
    host_path = "/tmp/" + m
    with open(host_path, "w") as f:
        f.write("host")
    try:
        code = r"""
import json, os
print(json.dumps({"listing": sorted(os.listdir("/tmp")), "exists": os.path.exists(%r)}))
""" % host_path
        res = run(code).result()
    finally:
        os.remove(host_path)
    assert res["exists"] is False
    assert res["listing"] == [], res  # a fresh, empty /tmp for every run


def test_root_and_usr_are_read_only(run):
    code = r"""
import json, os
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as e:
        out[name] = e.errno
attempt("open /x", lambda: open("/x", "w"))
attempt("mkdir /usr/lib/x", lambda: os.mkdir("/usr/lib/x"))
attempt("open /usr/bin/python3 rw", lambda: open("/usr/bin/python3", "r+b"))
attempt("chmod /usr/bin/python3", lambda: os.chmod("/usr/bin/python3", 0o777))
attempt("unlink /etc/passwd", lambda: os.unlink("/etc/passwd"))
attempt("rename /opt", lambda: os.rename("/opt", "/opt2"))
attempt("write runtime", lambda: open("/opt/pysandbox/zygote.py", "a"))
attempt("utime /usr", lambda: os.utime("/usr"))
print(json.dumps(out))
"""
    res = run(code).result()
    assert res["open /x"] == errno.EROFS
    assert res["mkdir /usr/lib/x"] == errno.EROFS
    # An existing root-owned file: the permission check (EACCES) may come before the mount's.
    assert res["open /usr/bin/python3 rw"] in (errno.EROFS, errno.EACCES)
    assert res["chmod /usr/bin/python3"] in (errno.EROFS, errno.EPERM)
    assert res["unlink /etc/passwd"] == errno.EROFS
    assert res["rename /opt"] == errno.EROFS
    assert res["write runtime"] in (errno.EROFS, errno.EACCES)
    assert res["utime /usr"] in (errno.EROFS, errno.EPERM)


def test_sys_is_absent_or_read_only(run):
    code = r"""
import json, os
out = {"exists": os.path.exists("/sys")}
try:
    open("/sys/kernel/uevent_helper", "w").write("/tmp/x")
    out["write"] = "ok"
except OSError as e:
    out["write"] = e.errno
print(json.dumps(out))
"""
    res = run(code).result()
    if res["exists"]:
        assert res["write"] in (errno.EROFS, errno.EACCES), res
    else:
        assert res["write"] == errno.ENOENT, res


def test_proc_sensitive_files_are_masked_or_read_only(run):
    code = r"""
import json, os
out = {}
for p in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/hostname", "/proc/sysrq-trigger",
          "/proc/sys/vm/drop_caches"):
    try:
        with open(p, "w") as f:
            f.write("x")
        out[p] = "written"
    except OSError as e:
        out[p] = e.errno
for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms", "/proc/sched_debug"):
    try:
        with open(p, "rb") as f:
            out[p] = "read %d bytes" % len(f.read(4096))
    except OSError as e:
        out[p] = e.errno
for p in ("/proc/acpi", "/proc/scsi", "/proc/asound"):  # host hardware: empty if present
    out[p] = os.listdir(p) if os.path.isdir(p) else "absent"
print(json.dumps(out))
"""
    res = run(code).result()
    for p in ("/proc/acpi", "/proc/scsi", "/proc/asound"):
        assert res[p] in ([], "absent"), (p, res[p])
    for p in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches"):
        assert res[p] in (errno.EROFS, errno.EACCES), (p, res[p])
    assert res["/proc/sysrq-trigger"] in (errno.EROFS, errno.EACCES, errno.ENOENT)
    for p in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms", "/proc/sched_debug"):
        assert res[p] in ("read 0 bytes", errno.ENOENT, errno.EACCES), (p, res[p])


def test_dev_holds_only_the_safe_devices(run):
    code = r"""
import json, os, stat
out = {"listing": sorted(os.listdir("/dev")), "devices": {}}
for name in ("null", "zero", "full", "random", "urandom"):
    st = os.stat("/dev/" + name)
    out["devices"][name] = [stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev)]
try:
    os.mknod("/dev/shm/sda", 0o600 | stat.S_IFBLK, os.makedev(8, 0))
    out["mknod"] = "ok"
except OSError as e:
    out["mknod"] = e.errno
try:
    os.mknod("/work/mem", 0o600 | stat.S_IFCHR, os.makedev(1, 1))
    out["mknod_work"] = "ok"
except OSError as e:
    out["mknod_work"] = e.errno
print(json.dumps(out))
"""
    res = run(code).result()
    allowed = {"null", "zero", "full", "random", "urandom", "shm", "fd", "stdin", "stdout", "stderr",
               "pts", "ptmx"}
    assert set(res["listing"]) <= allowed, set(res["listing"]) - allowed
    assert {"null", "zero", "full", "random", "urandom"} <= set(res["listing"])
    assert res["devices"] == {"null": [True, 1, 3], "zero": [True, 1, 5], "full": [True, 1, 7],
                              "random": [True, 1, 8], "urandom": [True, 1, 9]}
    assert res["mknod"] == errno.EPERM
    assert res["mknod_work"] == errno.EPERM


def test_mounts_are_nosuid_and_setuid_binaries_are_useless(run):
    code = r"""
import json, os, stat, subprocess
out = {"nosuid": {}, "setuid_files": []}
for p in ("/", "/usr", "/work", "/tmp", "/dev/shm", "/proc", "/dev", "/etc/passwd", "/opt/pysandbox"):
    out["nosuid"][p] = bool(os.statvfs(p).f_flag & os.ST_NOSUID)
for d in ("/usr/bin", "/usr/sbin", "/usr/lib/dbus-1.0"):
    for name in (os.listdir(d) if os.path.isdir(d) else []):
        p = os.path.join(d, name)
        try:
            if os.stat(p).st_mode & (stat.S_ISUID | stat.S_ISGID):
                out["setuid_files"].append(p)
        except OSError:
            pass
runs = {}
for p in out["setuid_files"][:8]:
    try:
        # `id -u` equivalent: a setuid binary that gained root would be able to read this.
        c = subprocess.run([p, "--version"], capture_output=True, timeout=2)
        runs[p] = c.returncode
    except Exception as e:
        runs[p] = repr(e)
out["ran"] = runs
try:
    c = subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/work"], capture_output=True,
                       timeout=2)
    out["mount_rc"] = c.returncode
    out["mount_err"] = c.stderr.decode(errors="replace")
except FileNotFoundError:
    out["mount_rc"] = None
with open("/proc/self/mountinfo") as f:
    out["work_mounts"] = [l for l in f if " /work " in l]
print(json.dumps(out))
"""
    res = run(code, timeout=10).result()
    assert res["nosuid"] == {p: True for p in res["nosuid"]}, res["nosuid"]
    if res["mount_rc"] is not None:
        assert res["mount_rc"] != 0, res
        assert len(res["work_mounts"]) == 1, res["work_mounts"]


def test_hard_links_to_host_files_are_impossible(run):
    code = r"""
import json, os
out = {}
for src, dst in (("/etc/passwd", "/work/pw"), ("/usr/bin/python3", "/work/py"),
                 ("/usr/bin/python3", "/tmp/py"), ("/opt/pysandbox/zygote.py", "/tmp/z"),
                 ("/etc/ld.so.cache", "/dev/shm/c")):
    try:
        os.link(src, dst)
        out[dst] = "linked"
    except OSError as e:
        out[dst] = e.errno
print(json.dumps(out))
"""
    res = run(code).result()
    assert res == {k: errno.EXDEV for k in res}, res


def test_workdir_and_tmp_are_noexec_or_at_least_not_setuid(run):
    code = r"""
import json, os
out = {}
for p in ("/work", "/tmp", "/dev/shm"):
    out[p] = {"nosuid": bool(os.statvfs(p).f_flag & os.ST_NOSUID),
              "nodev": bool(os.statvfs(p).f_flag & os.ST_NODEV)}
print(json.dumps(out))
"""
    res = run(code).result()
    for p, flags in res.items():
        assert flags == {"nosuid": True, "nodev": True}, (p, flags)
