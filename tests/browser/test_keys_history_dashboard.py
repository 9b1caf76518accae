"""The /ui page against a server with AUTH_MODE=api_key and HISTORY=full, in headless Chromium:
the key prompt, the key in sessionStorage only, 429 with Retry-After, the run history reopened
into the editor (stored code and output never run as markup), the dashboard's /metrics charts."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import _e2e
from page import axe_violations, editor_text, run, stream_text

BIN = os.environ.get("PYSANDBOX_BIN", "")


def create_key(state, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STATE_DIR")}
    env["STATE_DIR"] = state
    made = subprocess.run([BIN, "keys", "create", *args, "--json"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["key"]


@pytest.fixture(scope="module")
def server():
    if not os.access(BIN, os.X_OK):
        pytest.fail(f"PYSANDBOX_BIN={BIN!r} is not an executable pysandbox binary")
    state = tempfile.mkdtemp(prefix="pysandbox-ui-keys-")
    key = create_key(state, "--name", "page", "--rate", "0", "--concurrency", "0")
    # One token a minute: after the prompt's check of the key, the next request is refused.
    slow = create_key(state, "--name", "slow", "--rate", "1/m", "--burst", "1")
    s = _e2e.ServerProcess(env={"AUTH_MODE": "api_key", "STATE_DIR": state, "HISTORY": "full",
                                "METRICS_AUTH": "api_key"})
    s.key, s.slow_key = key, slow
    s.headers = {"Authorization": "Bearer " + key}
    yield s
    s.stop()
    shutil.rmtree(state, ignore_errors=True)


def wait(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(condition))


def load(driver, server, fragment=""):
    """A new document (a bare fragment change would keep the old one): the key, if any, comes
    from sessionStorage."""
    driver.get("about:blank")
    driver.get(f"{server.url}/ui{fragment}")


def enter_key(driver, key):
    field = driver.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()


def recorded_runs(server, count):
    """The key's newest runs once `count` are recorded (history is written off the request path)."""
    for _ in range(100):
        runs = requests.get(server.url + "/runs?limit=100", headers=server.headers,
                            timeout=10).json()["runs"]
        if len(runs) >= count:
            return runs
        time.sleep(0.1)
    raise AssertionError(f"{len(runs)} runs recorded, {count} expected")


def storage_dump(driver):
    return driver.execute_script(
        "const all = s => Object.keys(s).map(k => k + '=' + s.getItem(k)).join('\\n');"
        "return {local: all(localStorage), session: all(sessionStorage), url: location.href,"
        " cookies: document.cookie}")


def test_page_asks_for_the_key_and_keeps_it_in_session_storage_only(browser, server):
    driver = browser.driver
    driver.get(server.url + "/ui")
    wait(driver, "return !document.getElementById('key-form').hidden")
    assert "needs an API key" in driver.find_element(By.ID, "key-message").text
    assert driver.switch_to.active_element.get_attribute("id") == "api-key"
    assert axe_violations(driver)["violations"] == []
    enter_key(driver, "psk_aaaaaaaaaaaa_" + "b" * 43)
    wait(driver, "return !document.getElementById('key-error').hidden")
    assert "refused" in driver.find_element(By.ID, "key-error").text
    assert storage_dump(driver)["session"] == ""  # a refused key is not kept
    enter_key(driver, server.key)
    wait(driver, "return document.body.dataset.ready === 'true'")
    assert not driver.find_element(By.ID, "key-form").is_displayed()
    assert driver.find_element(By.ID, "key-forget").is_displayed()
    stored = storage_dump(driver)
    assert stored["session"] == "pysandbox.ui.apiKey=" + server.key
    assert server.key not in stored["local"] + stored["url"] + stored["cookies"]
    assert driver.find_element(By.ID, "nav-history").is_displayed()  # capabilities read with it


def test_run_shows_up_in_history_and_reopens_into_the_editor(browser, server):
    driver = browser.driver
    code = "print('from history', 6 * 7)"
    assert run(driver, code) == "Finished"
    newest = recorded_runs(server, 1)[0]
    assert driver.find_element(By.ID, "run-id").text == "Run id " + newest["run_id"]
    load(driver, server, "#history")
    wait(driver, "return document.body.dataset.history === 'loaded'")
    first = driver.find_element(By.CSS_SELECTOR, "#history-body tr")
    assert first.get_attribute("data-run") == newest["run_id"]
    assert "ok" in first.text and newest["run_id"] in first.text
    driver.execute_script("document.getElementById('console').textContent = ''")
    first.find_element(By.TAG_NAME, "button").click()
    wait(driver, "return location.hash === '#playground'")
    assert editor_text(driver) == code
    assert stream_text(driver, "stdout") == "from history 42\n"


def test_history_pages_with_the_cursor(browser, server):
    for i in range(26):  # one more than a page
        r = requests.post(server.url + "/execute", json={"code": f"print({i})"},
                          headers=server.headers, timeout=60)
        assert r.status_code == 200, r.text
    recorded_runs(server, 27)
    driver = browser.driver
    load(driver, server, "#history")
    wait(driver, "return document.body.dataset.history === 'loaded'")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#history-body tr")) == 25
    driver.find_element(By.ID, "history-more").click()
    wait(driver, "return document.querySelectorAll('#history-body tr').length > 25")
    ids = [r.get_attribute("data-run") for r in
           driver.find_elements(By.CSS_SELECTOR, "#history-body tr")]
    assert len(ids) == len(set(ids)) == 27  # 26 here, 1 before, no duplicate across pages
    assert not driver.find_element(By.ID, "history-more").is_displayed()


HOSTILE = ("<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>"
           "<svg onload=\"window.__pwned=3\">")


def test_hostile_code_and_output_in_history_do_not_execute(browser, server):
    code = f"# {HOSTILE}\nimport sys\nprint({HOSTILE!r})\nprint({HOSTILE!r}, file=sys.stderr)"
    r = requests.post(server.url + "/execute", json={"code": code}, headers=server.headers,
                      timeout=60)
    assert r.status_code == 200 and r.json()["stdout"] == HOSTILE + "\n"
    assert recorded_runs(server, 28)[0]["run_id"] == r.json()["run_id"]
    driver = browser.driver
    load(driver, server, "#history")
    wait(driver, "return document.body.dataset.history === 'loaded'")
    row = driver.find_element(By.CSS_SELECTOR, "#history-body tr")
    assert row.get_attribute("data-run") == r.json()["run_id"]
    row.find_element(By.TAG_NAME, "button").click()
    wait(driver, "return location.hash === '#playground'")
    assert stream_text(driver, "stdout") == HOSTILE + "\n"
    assert stream_text(driver, "stderr") == HOSTILE + "\n"
    assert editor_text(driver) == code
    assert driver.execute_script(
        "return [window.__pwned, document.querySelectorAll("
        "'#console img, #console script, #console svg, .cm-content img, .cm-content script').length]"
    ) == [None, 0]


def test_dashboard_draws_runs_per_second_and_latency_from_metrics(browser, server):
    driver = browser.driver
    load(driver, server, "#dashboard")
    wait(driver, "return document.getElementById('chart-metrics').dataset.drawn === 'true'")
    assert not driver.find_element(By.ID, "metrics-note").is_displayed()
    labels = "return [...document.querySelectorAll('#chart-metrics svg')].map(s => s.getAttribute('aria-label'))"
    seen = set()
    for _ in range(60):  # a run every ~0.5 s until a 2 s scrape interval has seen some
        requests.post(server.url + "/execute", json={"code": "print(1)"}, headers=server.headers,
                      timeout=60)
        rate, latency = driver.execute_script(labels)
        if re.search(r"runs/s (?!0/s)[\d.]+/s", rate):
            seen.add("rate")
        if re.search(r"latency \(ms\) (?!0 ms)[\d.]+ ms", latency):
            seen.add("latency")
        if seen == {"rate", "latency"}:
            break
        driver.execute_script("return new Promise(r => setTimeout(r, 400))")
    assert seen == {"rate", "latency"}, driver.execute_script(labels)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-metrics svg path")) == 2
    wait(driver, "return [...document.querySelectorAll('#chart-metrics svg path')]"
                 ".every(p => p.getAttribute('d').includes('L'))")  # lines, not single points


def test_forgetting_the_key_and_a_rate_limited_run(browser, server):
    driver = browser.driver
    load(driver, server)
    wait(driver, "return document.body.dataset.ready === 'true'")
    driver.find_element(By.ID, "key-forget").click()
    wait(driver, "return !document.getElementById('key-form').hidden")
    assert "forgotten" in driver.find_element(By.ID, "key-message").text
    assert storage_dump(driver)["session"] == ""
    enter_key(driver, server.slow_key)  # its one token goes to the check of the key
    wait(driver, "return document.getElementById('key-form').hidden")
    assert run(driver, "print('never')") == "Not run"
    message = driver.find_element(By.ID, "run-error").text
    assert "Rate limit exceeded" in message and "HTTP 429" in message
    assert re.search(r"Try again in \d+ s", message), message
