"""NETWORK_MODE=none (the default): a run reaches nothing but its own loopback, and fails fast."""
import json
import socket

import pytest

from nethosts import NetHost, unique
from test_network import probe_code


@pytest.fixture(scope="module")
def hosts():
    public = NetHost(unique("sbxnpub"), "198.51.100.1", "198.51.100.2")
    private = NetHost(unique("sbxnprv"), "10.231.0.1", "10.231.0.2")
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(8)
    yield {"public": public, "private": private, "listener_port": listener.getsockname()[1]}
    listener.close()
    public.close()
    private.close()


def test_every_destination_fails_fast(run, hosts):
    port = hosts["listener_port"]
    targets = [("198.51.100.2", NetHost.PORT), ("10.231.0.2", NetHost.PORT),
               ("127.0.0.1", port), ("198.51.100.1", port), ("169.254.169.254", 80)]
    res = run(probe_code(targets), timeout=30)
    assert res["status"] == "ok", res.brief()
    for key, r in json.loads(res["stdout"]).items():
        assert not r["result"].startswith("connected"), (key, r)
        assert r["seconds"] < 1.0, ("blocked, but not fast", key, r)


def test_name_resolution_fails_fast(run):
    res = run("import socket, time\nt = time.monotonic()\n"
              "try:\n    socket.getaddrinfo('example.com', 80)\n    print('resolved')\n"
              "except OSError as e:\n    print(type(e).__name__)\n"
              "print(time.monotonic() - t < 2)", timeout=20)
    assert res["stdout"].splitlines() == ["gaierror", "True"], res.brief()


def test_asking_for_network_is_refused(server):
    r = server.post({"code": "print(1)", "network": True})
    assert r.status_code == 400 and "network" in r.json()["detail"], r.text
