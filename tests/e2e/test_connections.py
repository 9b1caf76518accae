"""Connection floods (MAX_CONNECTIONS, HTTP_HEADER_TIMEOUT): stalled sockets never lock other
clients out, busy ones are never cut, and the log says so once per second, not per socket."""
import resource
import socket
import time

import requests

from conftest import start_server

PARTIAL_HEAD = b"GET /health HTTP/1.1\r\nHo"


def raise_own_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def port_of(server):
    return int(server.url.rsplit(":", 1)[1])


def stalled_sockets(server, count):
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port_of(server)), timeout=10)
        s.sendall(PARTIAL_HEAD)
        sockets.append(s)
    return sockets


def closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_stalled_flood_beyond_max_connections_does_not_lock_out_health():
    # More stalled sockets than MAX_CONNECTIONS and than the old fixed cap (1000).
    raise_own_fd_limit(4096)
    env = {"MAX_CONNECTIONS": "50", "HTTP_HEADER_TIMEOUT": "60"}
    with start_server(env=env) as s:
        sockets = stalled_sockets(s, 1100)
        try:
            start = time.monotonic()
            r = requests.get(s.url + "/health", timeout=5)
            assert r.status_code == 200
            assert time.monotonic() - start < 1.0
            # The oldest stalled connections made room at once, long before their deadline.
            assert closed_within(sockets[0], 2.0)
            # The newest ones (within the limit) are still open.
            assert not closed_within(sockets[-1], 0.2)
        finally:
            for sock in sockets:
                sock.close()
        lines = [l for l in s.log if "MAX_CONNECTIONS reached" in l]
        elapsed = time.monotonic() - start + 30  # generous: the flood took a few seconds
        assert 1 <= len(lines) <= elapsed, lines[:5]
        assert "closed=" in lines[0]


def test_busy_connections_are_kept_and_a_new_one_is_closed_at_once():
    with start_server(env={"MAX_CONNECTIONS": "5"}) as s:
        busy = []
        for _ in range(5):  # heads complete, bodies pending: nothing to evict
            c = socket.create_connection(("127.0.0.1", port_of(s)), timeout=10)
            c.sendall(b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 20\r\n\r\n")
            busy.append(c)
        time.sleep(0.2)
        try:
            extra = socket.create_connection(("127.0.0.1", port_of(s)), timeout=10)
            start = time.monotonic()
            assert closed_within(extra, 5.0)
            assert time.monotonic() - start < 1.0  # closed, not left to a timeout
            extra.close()
            # A busy connection still completes its request.
            busy[0].sendall(b'{"code": "print(5)"}')
            busy[0].settimeout(30)
            answer = busy[0].recv(65536)
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]
        finally:
            for c in busy:
                c.close()
        assert any("MAX_CONNECTIONS reached, all busy" in l for l in s.log)


def test_head_deadline_is_its_own():
    with start_server(env={"HTTP_HEADER_TIMEOUT": "1", "HTTP_READ_TIMEOUT": "30"}) as s:
        (sock,) = stalled_sockets(s, 1)
        start = time.monotonic()
        assert closed_within(sock, 10)
        assert 0.8 < time.monotonic() - start < 3
        sock.close()


def test_server_raises_its_open_files_soft_limit_to_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))  # the usual default
    try:
        server = start_server()
        s = server.__enter__()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        with open(f"/proc/{s.proc.pid}/limits") as f:
            line = next(l for l in f if l.startswith("Max open files"))
        server_soft, server_hard = line.split()[3:5]
        assert server_soft == server_hard == str(hard), line
    finally:
        server.__exit__(None, None, None)
