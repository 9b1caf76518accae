"""Raw-socket HTTP/1.1 for tests that must send what a client library would not (smuggling
shapes, stalled bodies) and count exactly what comes back."""
import socket

RECV_TIMEOUT_S = 5


def port_of(server):
    return int(server.url.rsplit(":", 1)[1])


def exchange(port, raw, timeout=RECV_TIMEOUT_S):
    """Sends `raw` on a new connection, reads until the server closes it (or `timeout` passes
    with nothing new). Returns (responses, closed): responses as (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        closed = False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                data += chunk
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
    return parse_responses(data), closed


def parse_responses(data):
    """Splits a byte stream into responses (Content-Length framed, as ours are). Interim 1xx
    responses are kept. A truncated tail is returned as status 0."""
    out = []
    while data:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            out.append((0, {}, data))
            break
        lines = data[:head_end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = data[head_end + 4: head_end + 4 + length]
        out.append((status, headers, body))
        data = data[head_end + 4 + length:]
    return out


def statuses(responses):
    return [r[0] for r in responses]
