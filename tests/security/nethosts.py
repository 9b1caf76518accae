"""Test hosts for the network tests: network namespaces of our own, joined to the host by veth.

`NetHost(name, host_addr, peer_addr)` creates namespace `name`, a veth pair (host side
`host_addr`/24, namespace side `peer_addr`/24) and an HTTP server in the namespace on
`peer_addr` on ports PORT and PORT + 1, serving a page whose <title> is the host's name and
a blob of `blob_bytes`, and a DNS server on port 53 that answers every A question with
`peer_addr`.
The host routes to it directly (connected route). `add_sinks` adds listeners on more ports
(TCP: accept, greet like a mail server, close; UDP: read and discard). Everything is removed
by close(). Traffic stays on this machine: nothing here reaches any other address.
"""
import os
import subprocess
import time

import requests

HTTP_SERVER = r"""
import http.server, os, sys
title, blob = sys.argv[1], int(sys.argv[2])
page = ("<html><head><title>%s</title></head><body><p id='m'>hello from %s</p></body></html>"
        % (title, title)).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.urandom(blob) if self.path == "/blob" else page
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
import socket, struct, threading

def dns():
    # A resolver for the tests: every A question is answered with this host's address.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((sys.argv[3], 53))
    addr = socket.inet_aton(sys.argv[3])
    while True:
        q, peer = sock.recvfrom(512)
        end = q.index(b"\0", 12) + 5  # the question: name, type, class
        qtype = struct.unpack("!H", q[end - 4:end - 2])[0]
        answers = 1 if qtype == 1 else 0
        head = q[:2] + struct.pack("!HHHHH", 0x8180, 1, answers, 0, 0)
        body = q[12:end]
        if answers:
            body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + addr
        sock.sendto(head + body, peer)

threading.Thread(target=dns, daemon=True).start()
second = http.server.ThreadingHTTPServer((sys.argv[3], int(sys.argv[4]) + 1), H)
threading.Thread(target=second.serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer((sys.argv[3], int(sys.argv[4])), H).serve_forever()
"""

SINKS = r"""
import socket, sys, threading
addr, tcp, udp = sys.argv[1], sys.argv[2], sys.argv[3]
def serve_tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(128)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"220 sink ESMTP\r\n")
        except OSError:
            pass
        c.close()
def serve_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    while True:
        s.recv(65536)
ports = [(serve_tcp, int(p)) for p in tcp.split(",") if p] + \
        [(serve_udp, int(p)) for p in udp.split(",") if p]
for fn, port in ports:
    threading.Thread(target=fn, args=(port,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


class NetHost:
    PORT = 8080

    def __init__(self, name, host_addr, peer_addr, blob_bytes=1 << 20):
        self.name, self.addr, self.host_addr = name, peer_addr, host_addr
        self.veth = ("v" + name)[:15]
        self.close()  # a previous run killed midway
        try:
            self._create(name, host_addr, peer_addr, blob_bytes)
        except BaseException:
            self.close()  # nothing half-made stays on the host
            raise

    def _create(self, name, host_addr, peer_addr, blob_bytes):
        _ip("netns", "add", name)
        _ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", name)
        _ip("addr", "add", host_addr + "/24", "dev", self.veth)
        _ip("link", "set", self.veth, "up")
        _ip("-n", name, "addr", "add", peer_addr + "/24", "dev", "eth0")
        _ip("-n", name, "link", "set", "eth0", "up")
        _ip("-n", name, "link", "set", "lo", "up")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", name, "/usr/bin/python3", "-c", HTTP_SERVER, name,
             str(blob_bytes), peer_addr, str(self.PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = "http://%s:%d" % (peer_addr, self.PORT)
        deadline = time.monotonic() + 10
        while True:  # the host itself must reach it, or a "blocked" result would mean nothing
            try:
                if all(requests.get("http://%s:%d/" % (peer_addr, p), timeout=1).status_code == 200
                       for p in (self.PORT, self.PORT + 1)):
                    break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def add_sinks(self, tcp_ports=(), udp_ports=()):
        """Listeners on more ports of this host (see the module's doc); up when this returns.
        Entered through the HTTP server's namespace link, not /run/netns/<name>: a name's
        mount there can be gone by now (see docs/SECURITY.md "Network" on slirp4netns)."""
        proc = subprocess.Popen(
            ["nsenter", "--net=/proc/%d/ns/net" % self.proc.pid, "/usr/bin/python3", "-c",
             SINKS, self.addr, ",".join(map(str, tcp_ports)), ",".join(map(str, udp_ports))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.sinks = getattr(self, "sinks", []) + [proc]
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("sinks on %s did not start" % self.name)

    def close(self):
        for proc in [getattr(self, "proc", None)] + getattr(self, "sinks", []):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        _ip("link", "del", self.veth, check=False)
        _ip("netns", "del", self.name, check=False)


def unique(prefix):
    return "%s%d" % (prefix, os.getpid() % 100000)
