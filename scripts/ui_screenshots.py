#!/usr/bin/python3
"""Takes the README's screenshots of /ui (docs/images/ui-*.png) from the real page: starts
`pysandbox serve` on a free loopback port and headless Chromium (as the browser tests do), runs
the page's own examples and saves a PNG of each main screen.

    /usr/bin/python3 scripts/ui_screenshots.py [--binary build/pysandbox] [--out docs/images]
"""
import argparse
import base64
import concurrent.futures
import importlib.util
import os
import pathlib
import sys
import tempfile
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from browser import Browser  # noqa: E402
from page import open_page  # noqa: E402


def load_server_class():
    spec = importlib.util.spec_from_file_location("e2e_conftest", ROOT / "tests/e2e/conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ServerProcess


def run_example(driver, example):
    Select(driver.find_element(By.ID, "example")).select_by_value(example)
    driver.find_element(By.ID, "run").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.body.dataset.running === 'false'"))
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")


def shoot(driver, out, name, full_page=False):
    path = out / f"ui-{name}.png"
    if full_page:  # the whole document, not only the window
        shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                      {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
    else:
        driver.save_screenshot(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / "build" / "pysandbox"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    args = parser.parse_args()
    os.environ["PYSANDBOX_BIN"] = os.path.abspath(args.binary)
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    server = load_server_class()(env={"HISTORY": "full"})
    browser = Browser(window_size=(1280, 860))
    try:
        driver = open_page(browser, server)
        driver.execute_script("localStorage.clear()")
        open_page(browser, server)
        run_example(driver, "plot")
        shoot(driver, out, "playground")

        csv = pathlib.Path(tempfile.mkdtemp()) / "cities.csv"
        csv.write_text("city,country,temp\nOslo,Norway,4\nLima,Peru,19\nPune,India,31\n")
        driver.find_element(By.ID, "file-input").send_keys(str(csv))
        run_example(driver, "csv")
        shoot(driver, out, "files", full_page=True)

        run_example(driver, "report")
        shoot(driver, out, "report")

        open_page(browser, server, "#history")
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script("return document.body.dataset.history === 'loaded'"))
        shoot(driver, out, "history")

        open_page(browser, server, "#dashboard")
        with concurrent.futures.ThreadPoolExecutor(6) as pool:  # some activity for the chart
            for i in range(6):
                pool.submit(requests.post, server.url + "/execute",
                            json={"code": f"import time; time.sleep({3 + i})"}, timeout=60)
                time.sleep(1)
            for _ in range(8):  # quick runs too, for the runs/s and latency charts
                requests.post(server.url + "/execute", json={"code": "print(1)"}, timeout=60)
                time.sleep(0.5)
            driver.execute_script("window.scrollTo(0, 0)")
            shoot(driver, out, "dashboard", full_page=True)
    finally:
        browser.quit()
        server.stop()


if __name__ == "__main__":
    main()
