"""A client written for the original service (copied from its documentation) works unchanged."""
import base64

import requests


class SandboxClient:
    def __init__(self, base_url="http://localhost:8000"):
        self.base_url = base_url

    def execute_code(self, code, timeout=30, files=None):
        """执行Python代码"""
        payload = {
            "code": code,
            "timeout": timeout
        }

        if files:
            payload["files"] = {
                name: base64.b64encode(content.encode()).decode()
                for name, content in files.items()
            }

        response = requests.post(
            f"{self.base_url}/execute",
            json=payload,
            headers={"Content-Type": "application/json"}
        )

        return response.json()

    def health_check(self):
        """检查服务健康状态"""
        response = requests.get(f"{self.base_url}/health")
        return response.json()


def test_original_client(base_url):
    client = SandboxClient(base_url)
    health = client.health_check()
    assert health["status"] in ("healthy", "degraded")

    result = client.execute_code("print('Hello from sandbox!')")
    assert result["stdout"] == "Hello from sandbox!\n"

    files = {"data.txt": "Hello, World!"}
    code = """
with open('data.txt', 'r') as f:
    content = f.read()
print(f"File content: {content}")

with open('output.txt', 'w') as f:
    f.write(content.upper())
"""
    result = client.execute_code(code, files=files)
    assert result["stdout"] == "File content: Hello, World!\n"
    assert list(result["files"].keys()) == ["output.txt"]
    assert base64.b64decode(result["files"]["output.txt"]) == b"HELLO, WORLD!"


def test_original_retry_pattern_sees_timeout(base_url):
    result = SandboxClient(base_url).execute_code("while True: pass", timeout=1)
    assert not result["success"] and "超时" in result.get("error", "")
