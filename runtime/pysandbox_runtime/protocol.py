"""The run protocol, Python side: JSON datagrams on SOCK_SEQPACKET (fds by SCM_RIGHTS), the
typed messages of a run, and the end pipe's records. Mirrored in C++ by src/pool/channel.*,
src/pool/run_protocol.* and src/pool/end_pipe.*; tests/fixtures/run_protocol_vectors.json holds
encodings both sides are tested against."""
import array
import json
import os
import socket

MAX_MESSAGE = 64 * 1024
MAX_FDS = 16
_FD_SIZE = array.array("i").itemsize
_ANCBUF = socket.CMSG_SPACE(MAX_FDS * _FD_SIZE)


class ProtocolError(Exception):
    """A datagram that is not a valid message (bad JSON, no type, truncated, too large)."""


def send(sock, obj, fds=()):
    """Send one message; fds are attached in order. Raises ProtocolError if it is too large."""
    data = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_MESSAGE:
        raise ProtocolError("message too large: %d bytes" % len(data))
    if fds:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
        sock.sendmsg([data], anc)
    else:
        sock.send(data)


def recv(sock):
    """Receive one message as (dict, [fds]); (None, []) on EOF.

    Received fds are close-on-exec. On a malformed message the attached fds are closed
    and ProtocolError is raised.
    """
    data, anc, flags, _ = sock.recvmsg(MAX_MESSAGE + 1, _ANCBUF, socket.MSG_CMSG_CLOEXEC)
    fds = []
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % _FD_SIZE
            fds.extend(array.array("i", payload[:usable]))
    if not data and not fds:
        return None, []
    try:
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(data) > MAX_MESSAGE:
            raise ProtocolError("truncated message")
        try:
            msg = json.loads(data)
        except ValueError as e:
            raise ProtocolError("bad JSON: %s" % e) from None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise ProtocolError("message without a string 'type'")
    except ProtocolError:
        close_all(fds)
        raise
    return msg, fds


def send_error(sock, step, err, detail):
    """Report a failed set-up step: {"type":"error","step","errno","detail"}.

    `step` is one of the names docs/ARCHITECTURE.md lists; the server shows any other name
    as a protocol error.
    """
    send(sock, error_message(step, err, detail))


def close_all(fds):
    """Close every fd in fds, ignoring ones already closed."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


# ---- messages (docs/ARCHITECTURE.md "Wire protocol")

GO = "go"


def zygote_ready_message(python, preloaded, failed, packages, seccomp_instructions):
    """zygote -> server, once its imports are done."""
    return {"type": "ready", "python": python, "preloaded": list(preloaded),
            "failed": dict(failed), "packages": dict(packages),
            "seccomp_instructions": seccomp_instructions}


def run_ready_message():
    """G -> server, with fds [G's pidfd, /work, its network namespace]: set up, waiting for
    `go`."""
    return {"type": "ready"}


def go_message():
    """server -> G: main.py and the inputs are in /work."""
    return {"type": GO}


def policy_message(text):
    """G -> server: the code policy refused main.py."""
    return {"type": "policy", "message": text}


def exit_message(exit_code, signal, cpu_time):
    """zygote -> server: G has been reaped (exit_code or signal is None)."""
    return {"type": "exit", "exit_code": exit_code, "signal": signal, "cpu_time": cpu_time}


def error_message(step, err, detail):
    """G or zygote -> server: a set-up step failed."""
    return {"type": "error", "step": step, "errno": err, "detail": detail}


# ---- the end pipe: records "KIND LEN\n" + LEN payload bytes (src/pool/end_pipe.h)

MAX_KIND = 16


def end_record(kind, payload):
    """One end-pipe record. A record up to PIPE_BUF (4096) bytes is written atomically."""
    return b"%s %d\n%s" % (kind.encode(), len(payload), payload)


_END_STATUS = [end_record("end", b'{"status":%d}' % n) for n in range(256)]


def end_status_record(status):
    """The `end` record: the program is over with exit status 0-255 (prebuilt: no work at exit)."""
    return _END_STATUS[status]


def decode_end_records(data, max_record=64 * 1024):
    """The records in data, as [(kind, payload)], and whether the rest is garbage (a malformed
    header or a record over max_record). An unfinished record at the end is left out."""
    out = []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos, pos + MAX_KIND + 22)
        if nl < 0:
            return out, len(data) - pos > MAX_KIND + 21
        kind, _, length = data[pos:nl].partition(b" ")
        if (not kind or len(kind) > MAX_KIND or not all(c in b"abcdefghijklmnopqrstuvwxyz_" for c in kind)
                or not length.isdigit() or (len(length) > 1 and length[:1] == b"0")
                or int(length) > max_record):
            return out, True
        end = nl + 1 + int(length)
        if end > len(data):
            return out, False
        out.append((kind.decode(), data[nl + 1:end]))
        pos = end
    return out, False
