"""A loopback HTTP server that receives job callbacks (tests and scale-out checks).

Every POST is recorded with its headers and body; `verify(secret)` checks X-Signature the way a
real receiver should (HMAC-SHA256 of the raw body, compared in constant time). `fail_first`
answers 500 to the first N posts of each job id (to exercise the sender's retries).
"""
import hashlib
import hmac
import http.server
import json
import threading


def signature_ok(secret, body, header):
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


class CallbackReceiver:
    def __init__(self, fail_first=0):
        self.posts = []  # (headers dict, raw body bytes)
        self.lock = threading.Lock()
        self.fail_first = fail_first
        self._seen = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                job = self.headers.get("X-Job-Id", "")
                with receiver.lock:
                    count = receiver._seen.get(job, 0)
                    receiver._seen[job] = count + 1
                    failing = count < receiver.fail_first
                    if not failing:
                        receiver.posts.append((dict(self.headers), body))
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        with self.lock:
            return [json.loads(b) for _, b in self.posts]

    def tries(self, job_id):
        with self.lock:
            return self._seen.get(job_id, 0)

    def all_signed(self, secret):
        with self.lock:
            return all(signature_ok(secret, b, h.get("X-Signature")) for h, b in self.posts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
