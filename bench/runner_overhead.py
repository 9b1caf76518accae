"""Runner and per-run overhead figures (on demand, not a test): `/usr/bin/python3 bench/runner_overhead.py`.

1. runner vs plain interpreter: fork a child that runs main.py through the runner vs a child
   that execs the same compiled code and flushes, and `python3 main.py` vs `python3 runner.py`
   as whole processes. The parent first collects and freezes the heap, as the zygote does;
   `--preload numpy,pandas,...` imports those modules first, as the full zygote does (a child
   then starts from a larger heap);
2. code policy check (standard) on a small and a 1000-line program;
3. with --zygote (root): whole runs through tests/runtime/harness.py, the Python stand-in for
   the server (its own Python costs are included, so the real server is faster).
"""
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME = os.path.join(ROOT, "runtime")
sys.path.insert(0, RUNTIME)
from pysandbox_runtime import policy, runner  # noqa: E402

N = 200


def _faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _in_child(body, setup=None):
    """Median µs the forked child spends from calling body() (after setup(), untimed) until
    it calls os._exit, and the median of its page faults meanwhile (copy-on-write above all:
    most of the time, and a count that, unlike the time, a busy machine does not blur)."""
    r, w = os.pipe()
    times, faults = [], []
    for _ in range(N):
        pid = os.fork()
        if pid == 0:
            real_exit = os._exit
            if setup is not None:
                setup()
            f = _faults()
            t = time.perf_counter()

            def timed_exit(status):
                os.write(w, b"%.1f %d\n" % ((time.perf_counter() - t) * 1e6, _faults() - f))
                real_exit(status)
            os._exit = timed_exit
            try:
                body()
            finally:
                timed_exit(0)
        os.waitpid(pid, 0)
        us, flt = os.read(r, 64).split()
        times.append(float(us))
        faults.append(int(flt))
    os.close(r)
    os.close(w)
    return statistics.median(times), statistics.median(faults)


def _executed(code, main_globals):
    """[] or [the uncaught exception] (the bench's frame above main.py's costs nothing here)."""
    try:
        exec(code, main_globals)
    except BaseException as e:  # noqa: B036 — as the interpreter, everything
        return [e]
    return []


def runner_in_fork(workdir):
    devnull = os.open(os.devnull, os.O_WRONLY)

    def via_runner():  # as a run does at the top level of zygote.py
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        code, main_globals = runner.prepare(workdir=workdir)
        runner.finish(_executed(code, main_globals))

    code = compile('print("hi")', "main.py", "exec")

    def plain_exec():
        os.dup2(devnull, 1)
        exec(code, {"__name__": "__main__"})
        sys.stdout.flush()

    runner.prepare_in_zygote(workdir)  # as the zygote does once at start-up, and then,
    gc.collect()            # like it, keeps what exists before the fork out of the collector
    gc.freeze()
    bare, bare_faults = _in_child(plain_exec)
    through, through_faults = _in_child(via_runner)  # each child: its copy of the prepared stdio
    print("in a forked child, exec of compiled print + flush: %6.0f us, %4d page faults"
          % (bare, bare_faults))
    print("in a forked child, the runner on the same main.py:   %6.0f us, %4d page faults"
          % (through, through_faults))
    print("=> runner overhead per run:                         %6.0f us, %4d page faults"
          % (through - bare, through_faults - bare_faults))
    # What a prepared run (G) has done before `ready`: run_child.main calls prepare_process.
    after_go, after_go_faults = _in_child(via_runner, runner.prepare_process)
    print("=> of which after `go` (a prepared run):            %6.0f us, %4d page faults"
          % (after_go - bare, after_go_faults - bare_faults))


def whole_process(workdir, n=30):
    def median(cmd):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(cmd, cwd=workdir, stdout=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - t) * 1e3)
        return statistics.median(times)
    plain = median(["/usr/bin/python3", "main.py"])
    isolated = median(["/usr/bin/python3", "-I", "-B", "main.py"])
    via = median(["/usr/bin/python3", "-I", "-B", os.path.join(RUNTIME, "pysandbox_runtime",
                                                                "runner.py")])
    print("python3 main.py:                      %7.2f ms" % plain)
    print("python3 -I -B main.py:                %7.2f ms" % isolated)
    print("python3 -I -B runner.py (main.py):    %7.2f ms  (+%.2f ms vs -I -B main.py)"
          % (via, via - isolated))


def policy_cost():
    small = "import pandas as pd\nprint(pd.DataFrame({'a': [1, 2]}).sum())\n"
    big = "".join("x%d = [i * %d for i in range(10) if i %% 2]\nprint(x%d)\n" % (i, i, i)
                  for i in range(500))
    for name, code in (("3-line", small), ("1000-line", big),
                       ("1000-line+re.compile", "import re\nre.compile('x')\n" + big)):
        times = []
        for _ in range(50):
            t = time.perf_counter()
            policy.check(code, "standard")
            times.append((time.perf_counter() - t) * 1e6)
        print("policy check (standard), %-22s %7.0f us" % (name + ":", statistics.median(times)))


def zygote_runs(preload):
    sys.path.insert(0, os.path.join(ROOT, "tests", "runtime"))
    import harness
    z = harness.Zygote(preload=preload)
    try:
        for label, code in (("print", 'print("hi")'),
                            ("pandas", "import pandas as pd\nprint(pd.DataFrame({'a':[1,2]}).sum())")):
            rs = [z.run(code) for _ in range(30)]
            med = {k: statistics.median(r[k] for r in rs)
                   for k in ("t_ready_ms", "t_go_to_exit_ms", "t_total_ms")}
            print("zygote[%s] %-6s: run→ready %.2f ms, go→exit %.2f ms, total %.2f ms (median of 30)"
                  % (preload or "lean", label, med["t_ready_ms"], med["t_go_to_exit_ms"],
                     med["t_total_ms"]))
    finally:
        z.close()


def main():
    if "--preload" in sys.argv:
        names = sys.argv[sys.argv.index("--preload") + 1]
        for name in filter(None, names.split(",")):
            __import__(name)
        print("preloaded: %s" % names)
    workdir = tempfile.mkdtemp()  # not TemporaryDirectory: its atexit hook would run in children
    with open(os.path.join(workdir, "main.py"), "w") as f:
        f.write('print("hi")\n')
    os.chdir(workdir)
    runner_in_fork(workdir)
    whole_process(workdir)
    os.unlink(os.path.join(workdir, "main.py"))
    os.rmdir(workdir)
    policy_cost()
    if "--zygote" in sys.argv:
        zygote_runs("")
        zygote_runs("numpy,pandas,matplotlib,requests,bs4")


if __name__ == "__main__":
    main()
