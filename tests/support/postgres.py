"""A throwaway PostgreSQL 15 cluster for Python tests (e2e, benchmarks, scale-out scripts).

Debian's binaries (package `postgresql`), run as the unprivileged `postgres` user with initdb
and pg_ctl in a temp dir; unix socket in that dir, optionally a TCP port on 127.0.0.1; stopped
and removed by `close()` (or the `with` block). Needs root. Failing to start raises
RuntimeError with PostgreSQL's log: a test that needs it fails, it does not skip.

    with PostgresCluster() as pg:
        url = pg.create_database("t1")   # postgresql://postgres@/t1?host=...&port=...
        ...
        pg.stop(); pg.start()            # a restart, as in an outage
"""
import os
import shutil
import socket
import subprocess
import tempfile

BIN = "/usr/lib/postgresql/15/bin/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self, tcp=False):
        if os.geteuid() != 0:
            raise RuntimeError("PostgresCluster needs root (it runs PostgreSQL as `postgres`)")
        self.dir = tempfile.mkdtemp(prefix="sbx-pg-")
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port() if tcp else 5432
        self.tcp = tcp
        self.running = False
        try:
            self._run(BIN + "initdb", "-D", self.dir + "/data", "-A", "trust", "-U", "postgres",
                      "-E", "UTF8", "--no-sync")
            self.start()
        except Exception:
            self.close()
            raise

    def _run(self, *argv):
        r = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            log = ""
            try:
                with open(self.dir + "/pg.log") as f:
                    log = f.read()
            except OSError:
                pass
            raise RuntimeError(f"{' '.join(argv)} failed:\n{r.stdout}{r.stderr}{log}")
        return r.stdout

    def start(self):
        listen = "127.0.0.1" if self.tcp else "''"
        opts = (f"-k {self.dir} -p {self.port} -c listen_addresses={listen} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(BIN + "pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/pg.log", "-w",
                  "-t", "60", "-o", opts, "start")
        self.running = True

    def stop(self):
        if self.running:
            self._run(BIN + "pg_ctl", "-D", self.dir + "/data", "-m", "fast", "-w", "-t", "60",
                      "stop")
            self.running = False

    def url(self, database="postgres"):
        if self.tcp:
            return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        return f"postgresql://postgres@/{database}?host={self.dir}&port={self.port}"

    def create_database(self, name):
        self._run(BIN + "createdb", "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                  "-T", "template0", name)
        return self.url(name)

    def psql(self, database, sql):
        """Runs SQL with psql (tab-separated rows, no headers); returns stdout."""
        return self._run("/usr/bin/psql", "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                         "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql)

    def close(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
