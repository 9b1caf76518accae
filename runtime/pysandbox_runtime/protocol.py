"""Wire framing: one UTF-8 JSON object per SOCK_SEQPACKET datagram, fds attached by SCM_RIGHTS."""
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
    send(sock, {"type": "error", "step": step, "errno": err, "detail": detail})


def close_all(fds):
    """Close every fd in fds, ignoring ones already closed."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
