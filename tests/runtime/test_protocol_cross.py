"""The run protocol across languages: the Python side encodes exactly the messages and end
records of tests/fixtures/run_protocol_vectors.json, which the C++ side is tested against too
(tests/unit/pool_run_protocol_test.cpp), and decodes the C++ side's end records."""
import json
import os

import pytest

from pysandbox_runtime import protocol, runner, runs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "tests", "fixtures", "run_protocol_vectors.json")) as f:
    VECTORS = json.load(f)
MESSAGES = VECTORS["messages"]
RECORDS = {k: v.encode() for k, v in VECTORS["end_records"].items()}


def test_messages_python_sends():
    assert protocol.zygote_ready_message("3.11.2", ["numpy"], {"scipy": "ImportError: x"},
                                         {"numpy": "1.24.2"}, 412) == MESSAGES["zygote_ready"]
    assert protocol.run_ready_message() == MESSAGES["run_ready"]
    assert protocol.policy_message(MESSAGES["policy"]["message"]) == MESSAGES["policy"]
    assert protocol.exit_message(3, None, 0.25) == MESSAGES["exit_code"]
    assert protocol.exit_message(None, 9, 1.5) == MESSAGES["exit_signal"]
    assert protocol.error_message("mount_tmpfs", 1, "/work") == MESSAGES["error"]


def test_messages_python_receives():
    assert MESSAGES["go"]["type"] == protocol.GO
    run = MESSAGES["run"]
    fds = list(range(100, 100 + len(run["fds"])))
    named = runs.name_fds(run["fds"], fds)
    assert named["run"] == [100] and named["stdin"] == [104] and named["cgroup"] == [105]


def test_exit_message_from_wait_status():
    class Usage:
        ru_utime, ru_stime = 0.2, 0.05
    assert runs.exit_message(3 << 8, Usage()) == MESSAGES["exit_code"]


def test_end_records_both_ways():
    assert protocol.end_status_record(0) == RECORDS["end_0"]
    assert protocol.end_status_record(255) == RECORDS["end_255"]
    assert runner.FLUSHED_REPORT == RECORDS["flushed"]
    wire = RECORDS["end_0"] + RECORDS["flushed"] + RECORDS["end_255"]
    records, garbage = protocol.decode_end_records(wire)
    assert records == [("end", b'{"status":0}'), ("flushed", b""), ("end", b'{"status":255}')]
    assert not garbage


@pytest.mark.parametrize("bad", [b"END 0\n", b"end 01\nx", b"end -1\n", b"x" * 40, b"end 70000\n"])
def test_end_record_garbage(bad):
    records, garbage = protocol.decode_end_records(bad + RECORDS["end_0"])
    assert records == [] and garbage
