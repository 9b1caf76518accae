"""Runs through the real sandbox: output, errors, files, program environment."""
import base64


def b64(data):
    return base64.b64encode(data).decode()


def test_hello_world(server):
    r = server.execute("print('Hello, World!')")
    assert r.status_code == 200
    body = r.json()
    assert list(body)[:6] == ["success", "stdout", "stderr", "execution_time", "files", "error"]
    assert body["success"] is True
    assert body["stdout"] == "Hello, World!\n"
    assert body["stderr"] == ""
    assert body["error"] is None
    assert body["status"] == "ok" and body["exit_code"] == 0
    assert isinstance(body["execution_time"], float)
    assert body["files"] == {}


def test_math(server):
    body = server.execute("import math\nprint(math.sqrt(16), 2**10, sum(range(101)))").json()
    assert body["stdout"] == "4.0 1024 5050\n"


def test_unicode_output(server):
    body = server.execute("print('你好, мир 😀')").json()
    assert body["stdout"] == "你好, мир 😀\n"


def test_invalid_utf8_and_nul_output_are_sanitized(server):
    body = server.execute(
        "import sys\nsys.stdout.buffer.write(b'a\\x00b\\xffc\\n')").json()
    assert body["stdout"] == "ab\ufffdc\n"


def test_syntax_error(server):
    body = server.execute("print('unclosed'").json()
    assert body["success"] is False
    assert "SyntaxError" in body["stderr"]
    assert body["error"] == "Code execution failed"
    assert body["status"] == "error"


def test_zero_division(server):
    body = server.execute("x = 1 / 0").json()
    assert body["success"] is False
    assert "ZeroDivisionError" in body["stderr"]
    assert 'File "main.py"' in body["stderr"]
    assert body["exit_code"] == 1


def test_name_is_main(server):
    body = server.execute("if __name__ == '__main__':\n    print('main')").json()
    assert body["stdout"] == "main\n"


def test_input_gets_eof(server):
    body = server.execute("try:\n    input()\nexcept EOFError:\n    print('eof')").json()
    assert body["stdout"] == "eof\n"


def test_exit_code(server):
    body = server.execute("import sys\nsys.exit(3)").json()
    assert body["success"] is False and body["exit_code"] == 3


def test_file_in_and_out(server):
    code = (
        "with open('data.txt') as f:\n"
        "    content = f.read()\n"
        "print(content)\n"
        "with open('output.txt', 'w') as f:\n"
        "    f.write(content.upper())\n")
    body = server.execute(code, files={"data.txt": b64(b"Hello, World!")}).json()
    assert body["success"] is True, body
    assert body["stdout"] == "Hello, World!\n"
    assert base64.b64decode(body["files"]["output.txt"]) == b"HELLO, WORLD!"
    assert "data.txt" not in body["files"]  # unchanged inputs are not returned
    assert "main.py" not in body["files"]


def test_binary_files_and_nested_names(server):
    blob = bytes(range(256)) * 4
    code = (
        "data = open('in/blob.bin', 'rb').read()\n"
        "import os\n"
        "os.makedirs('out/deep', exist_ok=True)\n"
        "open('out/deep/rev.bin', 'wb').write(data[::-1])\n"
        "open('empty.txt', 'w').close()\n"
        "print(len(data))\n")
    body = server.execute(code, files={"in/blob.bin": b64(blob)}).json()
    assert body["success"] is True, body
    assert body["stdout"] == "1024\n"
    assert base64.b64decode(body["files"]["out/deep/rev.bin"]) == blob[::-1]
    assert body["files"]["empty.txt"] == ""


def test_unpadded_base64_input(server):
    body = server.execute("print(open('a.txt').read())", files={"a.txt": "aGk"}).json()
    assert body["stdout"] == "hi\n"


def test_stderr_captured(server):
    body = server.execute("import sys\nprint('out')\nprint('err', file=sys.stderr)").json()
    assert body["stdout"] == "out\n" and body["stderr"] == "err\n"
