"""Wire framing: JSON datagrams on SOCK_SEQPACKET, fds in order, EOF, malformed messages."""
import os
import socket

import pytest

from pysandbox_runtime import protocol


@pytest.fixture()
def pair():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    yield a, b
    a.close()
    b.close()


def test_round_trip_keeps_message_boundaries(pair):
    a, b = pair
    protocol.send(a, {"type": "ping"})
    protocol.send(a, {"type": "run", "id": "r1", "x": "é"})
    assert protocol.recv(b) == ({"type": "ping"}, [])
    assert protocol.recv(b) == ({"type": "run", "id": "r1", "x": "é"}, [])


def test_fds_arrive_in_order_and_cloexec(pair):
    a, b = pair
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    protocol.send(a, {"type": "run"}, [w1, w2])
    msg, fds = protocol.recv(b)
    assert msg == {"type": "run"} and len(fds) == 2
    assert all(not os.get_inheritable(fd) for fd in fds)
    os.write(fds[0], b"one")
    os.write(fds[1], b"two")
    assert os.read(r1, 3) == b"one" and os.read(r2, 3) == b"two"
    protocol.close_all(fds + [r1, w1, r2, w2])


def test_eof_is_none(pair):
    a, b = pair
    a.shutdown(socket.SHUT_WR)
    assert protocol.recv(b) == (None, [])


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'{"no":"type"}', b'{"type":1}'])
def test_malformed_message_is_an_error_and_closes_fds(pair, raw):
    a, b = pair
    r, w = os.pipe()
    a.sendmsg([raw], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, w.to_bytes(4, "little"))])
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(protocol.ProtocolError):
        protocol.recv(b)
    assert set(os.listdir("/proc/self/fd")) <= before  # the received fd was closed
    os.close(r)
    os.close(w)


def test_too_large_message_is_refused(pair):
    a, _ = pair
    with pytest.raises(protocol.ProtocolError):
        protocol.send(a, {"type": "x", "pad": "a" * protocol.MAX_MESSAGE})


def test_largest_message_fits(pair):
    a, b = pair
    pad = "a" * (protocol.MAX_MESSAGE - 30)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    protocol.send(a, {"type": "x", "pad": pad})
    assert protocol.recv(b)[0]["pad"] == pad
