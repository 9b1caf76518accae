#!/usr/bin/python3
"""First contentful paint of /ui in headless Chromium on loopback (issue 19: ≤ 300 ms), against
the browser's own floor in the same run: GET /health (a bare JSON document the browser renders as
text). Alternates the two, ROUNDS times each, with an empty cache (first visit) and with the
cache (repeat visit); prints p50 / p95 / max in ms and the /ui : /health ratios.

    /usr/bin/python3 bench/ui_first_paint.py [--binary build/pysandbox] [--rounds 20]

Needs chromium, chromium-driver and python3-selenium (scripts/setup.sh installs them).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "browser"))

import benchlib  # noqa: E402
from browser import Browser  # noqa: E402

FCP = ("const e = performance.getEntriesByType('paint')"
       ".find(p => p.name === 'first-contentful-paint'); return e ? e.startTime : null")


def measure(driver, url):
    driver.get(url)
    for _ in range(50):  # the entry appears once the frame is presented
        value = driver.execute_script(FCP)
        if value is not None:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"no first-contentful-paint entry for {url}")


def summary(values):
    s = sorted(values)
    return (statistics.median(s), benchlib.percentile(s, 95), s[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=benchlib.default_binary())
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    log_dir = tempfile.mkdtemp(prefix="ui-paint-")
    server = benchlib.our_server("ui", os.path.abspath(args.binary), "zygote", benchlib.DEFAULT_SERVER_ARGS, log_dir)
    server.start()
    browser = Browser()
    try:
        base = f"http://127.0.0.1:{server.port}"
        driver = browser.driver
        driver.get("about:blank")
        driver.execute_cdp_cmd("Network.enable", {})
        results = {}
        for cache in ("empty cache", "cached"):
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": cache == "empty cache"})
            measure(driver, base + "/ui")  # one warm-up of each, not counted
            measure(driver, base + "/health")
            for path in ("/ui", "/health"):
                results[(cache, path)] = []
            for _ in range(args.rounds):
                for path in ("/ui", "/health"):
                    results[(cache, path)].append(measure(driver, base + path))
        rows = []
        for (cache, path), values in results.items():
            p50, p95, worst = summary(values)
            floor = summary(results[(cache, "/health")])[0]
            rows.append([cache, path, f"{p50:.0f}", f"{p95:.0f}", f"{worst:.0f}", f"{p50 / floor:.2f}"])
        print(f"first contentful paint, ms, {args.rounds} loads each, load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(benchlib.md_table(["cache", "page", "p50", "p95", "max", "p50 / /health p50"], rows))
    finally:
        browser.quit()
        server.stop()


if __name__ == "__main__":
    main()
