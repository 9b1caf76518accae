"""Socket buffers are bounded per run: loopback TCP and UDP that is written and never read stay
within the run's socket budget (cgroup v1: memory.kmem.tcp; v2: memory.max), so the host's
shared TCP and UDP pools (/proc/net/sockstat against net.ipv4.tcp_mem) never come near their
limits; unix datagram queues count against MEMORY_LIMIT. Issue 21's attack held 2,243 MiB of
TCP buffers (the host's pool past tcp_mem[2]) in a run that ended `success: true`.
"""
import concurrent.futures
import os
import threading
import time

from quota_attack import execute_alone

MiB = 1 << 20
SERVER_ENV = {"MAX_CONCURRENT_RUNS": "4"}
PAGE = os.sysconf("SC_PAGESIZE")
SLACK = 24 * MiB  # other TCP and UDP users of this host, per-cpu reserves of the pools

# Four processes, each with loopback pairs whose both ends ask for 64 MiB buffers and write
# without reading; the pairs stay open (held) until the run ends.
TCP_ATTACK = r"""
import json, os, socket, time
HELD = []
def worker(n):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    total = 0
    for i in range(n):
        c = socket.socket()
        for s in (c,):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        c.connect(ls.getsockname())
        a, _ = ls.accept()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 20)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        HELD.append((c, a))
        for s in (c, a):
            s.setblocking(False)
            end = time.monotonic() + 0.2
            try:
                while time.monotonic() < end:
                    total += s.send(b"x" * (1 << 20))
            except OSError:
                pass
    return total
r, w = os.pipe()
for k in range(4):
    if os.fork() == 0:
        os.write(w, b"%d\n" % worker(60))
        time.sleep(3)
        os._exit(0)
os.close(w)
for k in range(4):
    os.wait()
print(json.dumps(sum(int(x) for x in os.read(r, 1000).split())))
"""

UDP_ATTACK = r"""
import json, os, socket, time
HELD = []
def worker(n):
    total = 0
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setblocking(False)
    for i in range(n):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        rx.bind(("127.0.0.1", 0))
        HELD.append(rx)
        for k in range(300):
            try:
                total += tx.sendto(b"x" * 60000, rx.getsockname())
            except OSError:
                break
    return total
r, w = os.pipe()
for k in range(4):
    if os.fork() == 0:
        os.write(w, b"%d\n" % worker(100))
        time.sleep(3)
        os._exit(0)
os.close(w)
for k in range(4):
    os.wait()
print(json.dumps(sum(int(x) for x in os.read(r, 1000).split())))
"""

# A run beside the attack: 4 MiB through loopback TCP.
VICTIM = r"""
import socket, threading
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
c = socket.create_connection(ls.getsockname())
a, _ = ls.accept()
t = threading.Thread(target=lambda: c.sendall(b"y" * (4 << 20)))
t.start()
got = 0
while got < 4 << 20:
    got += len(a.recv(1 << 20))
t.join()
print(got)
"""


def pool_bytes(proto):
    """The host's memory pool of `proto` ("TCP", "UDP") in /proc/net/sockstat, in bytes."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith(proto + ":"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1]) * PAGE
    raise AssertionError("no %s line in /proc/net/sockstat" % proto)


def tcp_pressure_bytes():
    with open("/proc/sys/net/ipv4/tcp_mem") as f:
        return int(f.read().split()[0]) * PAGE


class PoolWatch:
    """Samples a sockstat pool every 20 ms in a thread: peak over the test."""

    def __init__(self, proto):
        self.proto, self.peak, self._stop = proto, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, pool_bytes(self.proto))
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def socket_budget(server):
    line = next(l for l in server.log if 'event="run uids"' in l)
    return int(line.split("socket_bytes_per_run=")[1].split()[0])


def attack_with_victims(server, proto, attack):
    before = pool_bytes(proto)
    with PoolWatch(proto) as watch, concurrent.futures.ThreadPoolExecutor(3) as pool:
        pending = pool.submit(execute_alone, server, attack, 30)
        time.sleep(1.0)  # the attack is filling its buffers
        victims = [pool.submit(execute_alone, server, VICTIM, 20) for _ in range(2)]
        for v in victims:
            assert v.result().result() == 4 << 20, v.result().brief()
        res = pending.result()
    after = wait_back(proto, before)
    return before, watch.peak, after, res


def wait_back(proto, before, timeout=10):
    deadline = time.monotonic() + timeout
    while pool_bytes(proto) > before + SLACK and time.monotonic() < deadline:
        time.sleep(0.1)
    return pool_bytes(proto)


def test_tcp_buffers_of_a_run_are_bounded(server):
    budget = socket_budget(server)
    before, peak, after, res = attack_with_victims(server, "TCP", TCP_ATTACK)
    # The run ends normally (or as memory_limit); its sockets could not grow past its budget.
    assert res["status"] in ("ok", "memory_limit"), res.brief()
    if res["status"] == "ok":
        assert res.result() <= budget + SLACK, (res.result() >> 20, budget >> 20)
    assert peak - before <= budget + SLACK, (before >> 20, peak >> 20, budget >> 20)
    assert peak < tcp_pressure_bytes() // 2, (peak >> 20, tcp_pressure_bytes() >> 20)
    assert after <= before + SLACK, (before >> 20, after >> 20)


def test_udp_buffers_of_a_run_are_bounded(server):
    budget = socket_budget(server)
    before, peak, after, res = attack_with_victims(server, "UDP", UDP_ATTACK)
    assert res["status"] in ("ok", "memory_limit"), res.brief()
    assert peak - before <= budget + SLACK, (before >> 20, peak >> 20, budget >> 20)
    assert after <= before + SLACK, (before >> 20, after >> 20)


def test_unix_datagram_queues_count_against_memory_limit(server):
    code = r"""
import socket
held = []
for i in range(200):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    for s in (a, b):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 20)
        s.setblocking(False)
        try:
            while True:
                s.send(b"x" * 60000)
        except OSError:
            pass
    held.append((a, b))
print("held", len(held))
"""
    res = server.execute(code, timeout=30)
    assert res["status"] == "memory_limit", res.brief()
    server.assert_healthy()


def test_tcp_autotuning_is_capped_in_the_runs_network_namespace(server, run):
    code = r"""
import json
def read(p):
    with open("/proc/sys/net/" + p) as f:
        return [int(x) for x in f.read().split()]
out = {k: read(k) for k in ("ipv4/tcp_rmem", "ipv4/tcp_wmem", "core/rmem_max", "core/wmem_max")}
try:
    open("/proc/sys/net/ipv4/tcp_rmem", "w").write("4096 131072 1073741824")
    out["raised"] = "raised"
except OSError as e:
    out["raised"] = e.errno
print(json.dumps(out))
"""
    res = run(code).result()
    budget = socket_budget(server)
    cap = min(max(budget // 4, 256 << 10), 4 << 20)
    assert res["ipv4/tcp_rmem"] == [4096, 131072, cap], res
    assert res["ipv4/tcp_wmem"] == [4096, 16384, cap], res
    # SO_SNDBUF/SO_RCVBUF are capped by these, which are the host's and read-only in a run.
    for name in ("core/rmem_max", "core/wmem_max"):
        with open("/proc/sys/net/" + name) as f:
            assert res[name] == [int(f.read())], res
    assert isinstance(res["raised"], int), res  # an errno: the run cannot raise its caps
