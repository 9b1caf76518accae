"""Nothing carries from one run to the next: files, modules, env, SysV IPC, abstract sockets,
background processes. Run 1 plants everything (and proves it did); run 2 finds none of it."""
import errno

from conftest import marker

LIB = r"""
import ctypes, errno, json, os, socket, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
def ipc(fn, *args):
    ctypes.set_errno(0)
    r = fn(*args)
    return [r, ctypes.get_errno() if r == -1 else 0]
"""

PLANT = LIB + r"""
M, KEY = %r, %d
out = {}
for p in ("/tmp/" + M, "/work/" + M, "/dev/shm/" + M, "/work/.cache/" + M):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(M)
with open("/work/mod_%%s.py" %% M, "w") as f:
    f.write("X = %%r\n" %% M)
with open("/work/sitecustomize.py", "w") as f:  # would run in every later interpreter
    f.write("import os; open('/tmp/sitecustomize_ran', 'w').write('1')\n")
os.environ["SBXSEC_PERSIST"] = M
os.putenv("SBXSEC_PERSIST2", M)
out["shmget"] = ipc(libc.shmget, KEY, 4096, IPC_CREAT | 0o666)
out["msgget"] = ipc(libc.msgget, KEY, IPC_CREAT | 0o666)
out["semget"] = ipc(libc.semget, KEY, 1, IPC_CREAT | 0o666)
HOLDER = '''
import os, signal, socket, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\\0" + sys.argv[1].encode())
s.listen(8)
time.sleep(120)
'''
if os.fork() == 0:
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    os.closerange(0, 3)
    os.execv(sys.executable, [sys.executable, "-c", HOLDER, M])
time.sleep(0.05)
for i in range(100):
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(b"\0" + M.encode())
        c.close()
        out["abstract"] = "listening"
        break
    except OSError as e:
        out["abstract"] = e.errno
        time.sleep(0.02)
os.remove("/work/" + M)  # work-dir files would come back as output files; the module stays
print(json.dumps(out))
"""

CHECK = LIB + r"""
M, KEY = %r, %d
out = {"files": {p: os.path.exists(p) for p in ("/tmp/" + M, "/work/" + M, "/dev/shm/" + M,
                                                  "/work/.cache/" + M, "/work/mod_%%s.py" %% M,
                                                  "/work/sitecustomize.py", "/tmp/sitecustomize_ran")},
       "listings": {d: sorted(os.listdir(d)) for d in ("/tmp", "/dev/shm")},
       "work": sorted(n for n in os.listdir("/work") if n != "main.py"),
       "env": [os.environ.get("SBXSEC_PERSIST"), os.environ.get("SBXSEC_PERSIST2")]}
try:
    __import__("mod_" + M)
    out["import"] = "imported"
except ModuleNotFoundError:
    out["import"] = "ModuleNotFoundError"
out["shmget"] = ipc(libc.shmget, KEY, 0, 0)
out["msgget"] = ipc(libc.msgget, KEY, 0)
out["semget"] = ipc(libc.semget, KEY, 0, 0)
out["sysvipc"] = {n: open("/proc/sysvipc/" + n).read().splitlines()[1:] for n in ("shm", "msg", "sem")}
try:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(b"\0" + M.encode())
    out["abstract"] = "connected"
except OSError as e:
    out["abstract"] = e.errno
out["unix"] = [l for l in open("/proc/net/unix") if M in l]
out["procs"] = [p for p in os.listdir("/proc") if p.isdigit() and
                M.encode() in open("/proc/%%s/cmdline" %% p, "rb").read()]
print(json.dumps(out))
"""


def test_nothing_persists_between_runs(server, run, host_clean):
    m = marker("persist")
    host_clean.append(m)
    key = 0x5EC00000 | (int(m[-5:], 16) & 0xFFFFF)
    planted = run(PLANT % (m, key), timeout=5).result()
    # Run 1 really created everything it will look for.
    for name in ("shmget", "msgget", "semget"):
        assert planted[name][0] >= 0, (name, planted[name])
    assert planted["abstract"] == "listening", planted

    res = run(CHECK % (m, key), timeout=5).result()
    assert res["files"] == {p: False for p in res["files"]}, res["files"]
    assert res["listings"] == {"/tmp": [], "/dev/shm": []}, res["listings"]
    assert res["work"] == [], res["work"]
    assert res["env"] == [None, None], res["env"]
    assert res["import"] == "ModuleNotFoundError"
    for name in ("shmget", "msgget", "semget"):
        assert res[name] == [-1, errno.ENOENT], (name, res[name])
    assert res["sysvipc"] == {"shm": [], "msg": [], "sem": []}, res["sysvipc"]
    assert res["abstract"] == errno.ECONNREFUSED, res["abstract"]
    assert res["unix"] == [] and res["procs"] == [], res
    # On the host: the IPC key and the abstract socket never existed in the host's namespaces.
    for n in ("shm", "msg", "sem"):
        with open("/proc/sysvipc/" + n) as f:
            keys = [line.split()[0] for line in f.read().splitlines()[1:]]
        assert str(key) not in keys, n
    with open("/proc/net/unix") as f:
        assert m not in f.read()
    # host_clean: no process with the marker (the socket holder) on the host.


def test_workdir_module_does_not_shadow_later_runs(run):
    # A run that leaves json.py in its work dir must not change `import json` of the next run.
    r1 = run("open('json.py', 'w').write('raise SystemExit(\"hijacked\")')\nprint('planted')")
    assert r1["status"] == "ok"
    r2 = run("import json\nprint(json.dumps([1]))")
    assert (r2["status"], r2["stdout"]) == ("ok", "[1]\n"), r2.brief()
