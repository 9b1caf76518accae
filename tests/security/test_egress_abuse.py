"""Egress abuse (NETWORK_MODE=egress): what a run could do to the host or other runs through
its network stack — fill the host's conntrack table, burn CPU in its slirp4netns beyond its
own CPU_LIMIT, send mail.

Test hosts (nethosts.NetHost, network namespaces of this test behind veth pairs, other
subnets than test_network.py's): a "public" one on 203.0.113.2 (HTTP, mail ports, a UDP
sink on port 9), a mail relay on 198.18.7.2 (a blocked range) that NETWORK_ALLOW opens on port 587
only, and a private one on 10.232.0.2 that NETWORK_ALLOW opens whole (a CIDR). Nothing
leaves this machine.
"""
import os
import threading
import time

import pytest

from conftest import _ppid, _proc_pids, _read
from nethosts import NetHost, unique
# After every test: no network stack beyond the prepared runs' (test_network.py's check).
from test_network import links_back_to_stock  # noqa: F401

CPU_LIMIT = 0.5  # cores per run: a run and its network stack together stay within it
SERVER_ENV = {
    "NETWORK_MODE": "egress",
    "NETWORK_DNS": "203.0.113.2",
    "NETWORK_ALLOW": "198.18.7.2:587,10.232.0.0/24",
    "CPU_LIMIT": str(CPU_LIMIT),
}
# The documented defaults (docs/SECURITY.md "Network"): a run holds at most
# 2 x NETWORK_MAX_CONNECTIONS + NETWORK_NEW_CONNECTIONS_BURST + 10 s x NETWORK_NEW_CONNECTIONS_RATE
# entries of the host's conntrack table.
MAX_CONNECTIONS, NEW_RATE, NEW_BURST = 64, 50, 100
CONNTRACK_BOUND = 2 * MAX_CONNECTIONS + NEW_BURST + 10 * NEW_RATE
SMTP_PORTS = (25, 465, 587)
SINK = 9  # TCP (accept, greet, close: fast) and UDP (discard) on the public host


@pytest.fixture(scope="module")
def hosts():
    made = []
    try:
        for key, name, host_addr, addr, tcp, udp in (
                ("public", "sbxegp", "203.0.113.1", "203.0.113.2", SMTP_PORTS + (SINK,), (SINK,)),
                ("relay", "sbxegr", "198.18.7.1", "198.18.7.2", SMTP_PORTS, ()),
                ("private", "sbxegc", "10.232.0.1", "10.232.0.2", (25,), ())):
            host = NetHost(unique(name), host_addr, addr)
            made.append((key, host))
            host.add_sinks(tcp, udp)
        yield dict(made)
    finally:
        for _, host in made:
            host.close()


# --- conntrack ---------------------------------------------------------------------------

def conntrack_entries():
    """The host's conntrack entries, each as its original-direction tuple (protocol, addresses,
    ports): needs /proc/net/nf_conntrack."""
    with open("/proc/net/nf_conntrack") as f:
        lines = f.read().splitlines()
    out = set()
    for line in lines:
        fields = line.split()
        tuple_ = [f for f in fields if f.startswith(("src=", "dst=", "sport=", "dport="))][:4]
        out.add((fields[2],) + tuple(tuple_))
    return out


def not_loopback(entries):
    """Entries of the host's own loopback traffic (other servers and tests on this machine)
    are not a run's: runs cannot reach the host's loopback."""
    return {e for e in entries if not e[1].startswith(("src=127.", "src=::1"))}


# Short TCP connections (each leaves an entry in TIME_WAIT, which `ct count` does not count),
# then new UDP flows (each new source port is an entry), as fast as the run can.
FLOOD_CONNECTIONS = r"""
import json, socket, time
ok = refused = udp = 0
end = time.monotonic() + %(seconds)f
while time.monotonic() < end:
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect(("%(host)s", %(port)d)); ok += 1
    except OSError:
        refused += 1
    s.close()
end = time.monotonic() + 1.0
while time.monotonic() < end:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", ("%(host)s", %(udp)d)); udp += 1
    u.close()
print(json.dumps({"ok": ok, "refused": refused, "udp": udp}))
"""


def test_a_connection_flood_grows_the_hosts_conntrack_table_by_the_documented_bound_only(
        server, hosts):
    pub = hosts["public"]
    flood_dst, other_port = ("dst=" + pub.addr, "dport=%d" % SINK), "dport=%d" % NetHost.PORT
    # Entries are counted when they are new (not in the table before): older ones, of earlier
    # tests, expire meanwhile and must not make up for new ones.
    before = conntrack_entries()  # needs /proc/net/nf_conntrack: fails, never skips
    before_count = int(_read("/proc/sys/net/netfilter/nf_conntrack_count"))
    peak = {"dst": 0, "all": 0, "count": 0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            # New entries, less the other run's (its HTTP requests, below).
            new = {e for e in not_loopback(conntrack_entries() - before) if e[4] != other_port}
            peak["dst"] = max(peak["dst"], sum(1 for e in new if (e[2], e[4]) == flood_dst))
            peak["all"] = max(peak["all"], len(new))
            peak["count"] = max(peak["count"],
                                int(_read("/proc/sys/net/netfilter/nf_conntrack_count")))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    results = {}
    code = FLOOD_CONNECTIONS % {"seconds": 3.5, "host": pub.addr, "port": SINK, "udp": SINK}
    flood = threading.Thread(
        target=lambda: results.update(flood=server.execute(code, timeout=30)))
    flood.start()
    time.sleep(1.0)  # the flood is under way: another run's connections still work
    other = server.execute("""
import requests
codes = [requests.get("%s/", timeout=5).status_code for _ in range(20)]
print(codes.count(200))
""" % pub.url, timeout=30)
    flood.join()
    time.sleep(0.5)
    stop.set()
    sampler.join()
    got = results["flood"].result()
    grown = {"flood's": peak["dst"], "not loopback": peak["all"],
             "nf_conntrack_count (whole host, for the record)": peak["count"] - before_count}
    assert other["status"] == "ok" and other["stdout"] == "20\n", other.brief()
    assert grown["flood's"] <= CONNTRACK_BOUND, (grown, got)
    assert grown["not loopback"] <= CONNTRACK_BOUND, (grown, got)
    assert got["refused"] > 0, got  # the flood met the limit: connections refused at once
    assert got["ok"] <= NEW_BURST + NEW_RATE * 4.5 + 10, got


# --- the network stack's CPU ---------------------------------------------------------------

def stacks(server_pid):
    """{pid: (user + system CPU seconds, its cgroup paths)} of the server's slirp4netns."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _proc_pids():
        if _read("/proc/%d/comm" % pid).strip() != "slirp4netns" or _ppid(pid) != server_pid:
            continue
        fields = _read("/proc/%d/stat" % pid).rsplit(")", 1)[-1].split()
        lines = [l.split(":", 2) for l in _read("/proc/%d/cgroup" % pid).splitlines()]
        v1 = [path for _, ctrl, path in lines if {"cpu", "memory", "pids"} & set(ctrl.split(","))]
        groups = v1 or [path for _, ctrl, path in lines if ctrl == ""]  # v2: the one hierarchy
        if len(fields) > 12:
            out[pid] = ((int(fields[11]) + int(fields[12])) / tick, groups)
    return out


# Two processes send UDP as fast as they can, enough to keep the run at its CPU limit and
# the stack busy; the run reports the CPU time of both.
UDP_FLOOD = r"""
import json, os, socket, time
t0 = time.monotonic()
child = os.fork()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.connect(("%(host)s", %(udp)d))
data, sent = b"x" * 1200, 0
end = t0 + %(seconds)f
while time.monotonic() < end:
    for _ in range(100):
        try:
            u.send(data); sent += 1
        except OSError:
            pass
if child == 0:
    os._exit(0)
os.waitpid(child, 0)
cpu = sum(os.times()[:4])  # this process and its waited-for child
time.sleep(0.5)  # quiet: the test's last look at the stack's CPU counts all of it
print(json.dumps({"sent": sent, "cpu": cpu, "wall": time.monotonic() - t0}))
"""


def test_a_udp_flood_keeps_the_run_and_its_stack_within_cpu_limit_and_is_accounted(
        server, hosts):
    first = {pid: cpu for pid, (cpu, _) in stacks(server.pid).items()}
    last = {}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            last.update(stacks(server.pid))  # a stack's last look before it dies
            stop.wait(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        res = server.execute(UDP_FLOOD % {"host": hosts["public"].addr, "udp": SINK,
                                          "seconds": 3.0}, timeout=30)
    finally:
        stop.set()
        sampler.join()
    got = res.result()
    # The run's stack is the one that worked hardest.
    stack, pid = max((cpu - first.get(pid, 0.0), pid) for pid, (cpu, _) in last.items())
    assert got["sent"] > 1000 and stack > 0.1, ("the flood did not reach the stack", got, stack)
    run_group = "/%s/p%d-" % (server.prefix, server.pid)
    assert all(run_group in g for g in last[pid][1]), (
        "the stack is not in its run's cgroups", last[pid][1])
    # CFS quota over the run's life, with room for sampling (0.1 s) and accounting granularity.
    total = got["cpu"] + stack
    assert total <= CPU_LIMIT * got["wall"] * 1.1 + 0.2, (
        "run %.2f s + its stack %.2f s of CPU in %.2f s at CPU_LIMIT %s" % (
            got["cpu"], stack, got["wall"], CPU_LIMIT))
    assert res["cpu_time"] >= got["cpu"] + 0.8 * stack, (
        "the run's cpu_time %.2f s leaves out its stack's %.2f s" % (res["cpu_time"], stack))


# --- mail ----------------------------------------------------------------------------------

PROBE = r"""
import json, socket, time
def probe(host, port):
    t = time.monotonic()
    s = socket.socket(); s.settimeout(5)
    try:
        s.connect((host, port))  # slirp4netns completes it only once the host's connect has
        r = "connected"
    except Exception as e:
        r = type(e).__name__
    finally:
        s.close()
    return {"result": r, "seconds": round(time.monotonic() - t, 3)}
print(json.dumps({"%%s:%%d" %% t: probe(*t) for t in %r}))
"""


def probe(run, targets):
    res = run(PROBE % [tuple(t) for t in targets], timeout=30)
    return res.result()


def test_outbound_mail_is_refused_at_once(run, hosts):
    pub = hosts["public"].addr
    got = probe(run, [(pub, p) for p in SMTP_PORTS] + [(pub, NetHost.PORT)])
    for port in SMTP_PORTS:
        r = got["%s:%d" % (pub, port)]
        assert r["result"] == "ConnectionRefusedError" and r["seconds"] < 1.0, (port, r)
    assert got["%s:%d" % (pub, NetHost.PORT)]["result"] == "connected", got


def test_network_allow_opens_mail_where_it_lists_the_destination(run, hosts):
    relay, private = hosts["relay"].addr, hosts["private"].addr
    got = probe(run, [(relay, 587), (relay, 25), (relay, 465), (private, 25)])
    assert got["%s:587" % relay]["result"] == "connected", got   # host:port entry
    assert got["%s:25" % relay]["result"] == "ConnectionRefusedError", got
    assert got["%s:465" % relay]["result"] == "ConnectionRefusedError", got
    assert got["%s:25" % private]["result"] == "connected", got  # CIDR entry covers all ports
