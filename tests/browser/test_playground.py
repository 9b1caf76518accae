"""The /ui playground in headless Chromium against the real server: edit, run, output, files,
previews, hostile output, CSP, keyboard-only use, persistence, contrast and first paint."""
import pathlib
import time

import pytest
import requests
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import Select, WebDriverWait

from page import axe_violations, editor_text, open_page, run, set_code, stream_text, wait_for_result

FIRST_PAINT_BUDGET_MS = 300


def first_contentful_paint(browser, server):
    open_page(browser, server)
    return browser.driver.execute_script(
        "const e = performance.getEntriesByType('paint')"
        ".find(p => p.name === 'first-contentful-paint'); return e ? e.startTime : null")


def test_page_paints_fast_and_logs_no_error(browser, server):
    driver = browser.driver
    driver.get("about:blank")  # the browser's own first start is not the page's cost
    browser.console_errors()
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        first = [first_contentful_paint(browser, server) for _ in range(3)]
    finally:
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    repeat = [first_contentful_paint(browser, server) for _ in range(3)]
    assert None not in first + repeat
    print(f"\nfirst contentful paint of /ui on loopback: first visit (empty cache) "
          f"{[round(p) for p in first]} ms, repeat visit {[round(p) for p in repeat]} ms")
    # The best of three: the budget is the page's, not the load of a shared 2-core machine.
    assert min(first) <= FIRST_PAINT_BUDGET_MS
    assert min(repeat) <= FIRST_PAINT_BUDGET_MS
    assert browser.console_errors() == []
    resources = driver.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)")
    assert resources and all(r.startswith(server.url + "/") for r in resources), resources
    served = requests.get(server.url + "/ui", timeout=10).text
    assert "https://" not in served and "http://" not in served.replace("http://www.w3.org", "")


def test_typed_program_runs_with_ctrl_enter(browser, server):
    driver = open_page(browser, server)
    editor = driver.find_element(By.CSS_SELECTOR, ".cm-content")
    editor.click()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    editor.send_keys('x = 6 * 7\nprint("answer", x)')
    assert editor_text(driver) == 'x = 6 * 7\nprint("answer", x)'
    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    assert wait_for_result(driver) == "Finished"
    assert stream_text(driver, "stdout") == "answer 42\n"
    assert editor_text(driver) == 'x = 6 * 7\nprint("answer", x)'  # Ctrl+Enter added no line
    assert driver.find_element(By.ID, "sum-exit").text == "0"
    for field in ("sum-time", "sum-cpu", "sum-memory"):
        assert driver.find_element(By.ID, field).text not in ("", "—"), field


def test_stdout_and_stderr_are_told_apart(browser, server):
    driver = open_page(browser, server)
    status = run(driver, "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\n"
                         "raise SystemExit(3)")
    assert status == "Failed"
    assert stream_text(driver, "stdout") == "to out\n"
    assert stream_text(driver, "stderr") == "to err\n"
    assert driver.find_element(By.ID, "sum-exit").text == "3"
    colors = driver.execute_script(
        "return ['stdout', 'stderr'].map(s => getComputedStyle("
        "document.querySelector(`#console [data-stream='${s}']`)).color)")
    assert colors[0] != colors[1]
    driver.find_element(By.CSS_SELECTOR, "button[data-show='stderr']").click()
    out = driver.find_element(By.CSS_SELECTOR, "#console [data-stream='stdout']")
    err = driver.find_element(By.CSS_SELECTOR, "#console [data-stream='stderr']")
    assert not out.is_displayed() and err.is_displayed()
    driver.find_element(By.CSS_SELECTOR, "button[data-show='all']").click()
    assert out.is_displayed()


def test_uploaded_csv_is_read_and_produced_file_downloads(browser, server, tmp_path):
    driver = open_page(browser, server)
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("name,score\nada,3\n\"lin, k\",5\n")
    driver.find_element(By.ID, "file-input").send_keys(str(csv_path))
    WebDriverWait(driver, 10).until(
        lambda d: "data.csv" in d.find_element(By.ID, "input-files").text)
    code = ("import csv\nrows = list(csv.DictReader(open('data.csv')))\n"
            "print(sum(int(r['score']) for r in rows), rows[1]['name'])\n"
            "open('blob.bin', 'wb').write(bytes(range(256)) * 3)\n"
            "with open('out.csv', 'w') as f: f.write('a,b\\n<b>x</b>,2\\n')\n")
    assert run(driver, code) == "Finished"
    assert stream_text(driver, "stdout") == "8 lin, k\n"
    table = driver.find_element(By.CSS_SELECTOR, "#previews table.csv-table")
    assert [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")] == ["a", "b"]
    assert [td.text for td in table.find_elements(By.CSS_SELECTOR, "tbody td")] == ["<b>x</b>", "2"]
    item = driver.find_element(By.CSS_SELECTOR, "#output-files li[data-file='blob.bin']")
    assert "768 bytes" in item.text
    link = item.find_element(By.CSS_SELECTOR, "a.download")
    assert link.get_attribute("href").startswith("blob:")
    link.click()
    target = pathlib.Path(browser.downloads) / "blob.bin"
    WebDriverWait(driver, 20).until(lambda d: target.exists() and target.stat().st_size == 768)
    assert target.read_bytes() == bytes(range(256)) * 3


DROP = """
const [zone, name, text] = arguments;
const data = new DataTransfer();
data.items.add(new File([text], name, {type: 'text/plain'}));
for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
}
"""


def test_dropped_files_are_sent_and_can_be_removed(browser, server):
    driver = open_page(browser, server)
    zone = driver.find_element(By.ID, "dropzone")
    driver.execute_script(DROP, zone, "notes.txt", "dropped text")
    driver.execute_script(DROP, zone, "extra.txt", "not wanted")
    listing = driver.find_element(By.ID, "input-files")
    WebDriverWait(driver, 10).until(lambda d: "extra.txt" in listing.text and "notes.txt" in listing.text)
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Remove extra.txt']").click()
    assert "extra.txt" not in listing.text
    code = "import os\nprint(sorted(f for f in os.listdir() if f.endswith('.txt')), open('notes.txt').read())"
    assert run(driver, code) == "Finished"
    assert stream_text(driver, "stdout") == "['notes.txt'] dropped text\n"


def test_javascript_grammar_loads_only_when_chosen(browser, server):
    driver = open_page(browser, server)
    set_code(driver, "print('python code')")
    loaded = "return performance.getEntriesByType('resource').map(r => r.name.split('/').pop())"
    before = set(driver.execute_script(loaded))
    language = driver.find_element(By.ID, "language")
    # This server has no JavaScript yet (issue 18), so the page offers it disabled; enable it
    # as the page will once /runtime lists the language.
    assert driver.execute_script("return arguments[0].options[1].disabled", language)
    driver.execute_script("arguments[0].options[1].disabled = false", language)
    Select(language).select_by_value("javascript")
    WebDriverWait(driver, 10).until(lambda d: "console.log" in editor_text(d))
    chunks = set(driver.execute_script(loaded)) - before
    assert any(c.endswith(".js") for c in chunks), chunks  # fetched on demand, not before
    assert driver.find_elements(By.CSS_SELECTOR, ".cm-content .cm-line span")  # highlighted
    Select(language).select_by_value("python")
    WebDriverWait(driver, 10).until(lambda d: editor_text(d) == "print('python code')")


def test_produced_png_is_previewed(browser, server):
    driver = open_page(browser, server)
    code = ("from PIL import Image\nImage.new('RGB', (40, 24), (200, 30, 30)).save('red.png')\n")
    assert run(driver, code) == "Finished"
    img = driver.find_element(By.CSS_SELECTOR, "#previews img.image-preview")
    assert img.get_attribute("src").startswith("blob:")
    assert img.get_attribute("alt") == "Preview of red.png"
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth === 40", img))
    assert driver.execute_script("return arguments[0].naturalHeight", img) == 24


HOSTILE = """
payload = ('<script>window.__pwned = 1; alert(1)</script>'
           '<img src=x onerror="window.__pwned = 2; alert(2)">'
           '<svg onload="window.__pwned = 3">')
print(payload)
import sys; print(payload, file=sys.stderr)
open('evil.html', 'w').write('<p id=p>evil</p>' + payload +
                             '<script>parent.__pwned = 4; top.location = "about:blank"</script>')
open('evil.csv', 'w').write('h\\n' + payload + '\\n')
"""


def test_hostile_output_never_runs_in_the_page(browser, server):
    driver = open_page(browser, server)
    browser.console_errors()
    assert run(driver, HOSTILE) == "Finished"
    time.sleep(0.5)  # give any injected handler (img onerror) its chance to fire
    assert driver.execute_script("return window.__pwned") is None
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text
    assert "<script>window.__pwned = 1" in stream_text(driver, "stdout")
    assert "<img src=x onerror" in stream_text(driver, "stderr")
    assert driver.find_elements(By.CSS_SELECTOR, "#console *:not(span)") == []
    assert driver.find_elements(By.CSS_SELECTOR, "#previews table img, #previews table script") == []
    frame = driver.find_element(By.CSS_SELECTOR, "#previews iframe.result-frame")
    assert frame.get_attribute("sandbox") == ""
    # An opaque origin: the page cannot reach into the frame, nor the frame into the page.
    assert driver.execute_script("return arguments[0].contentDocument", frame) is None
    assert driver.current_url.startswith(server.url + "/ui")
    driver.switch_to.frame(frame)
    try:
        assert driver.find_element(By.ID, "p").text == "evil"  # the HTML itself is rendered
    finally:
        driver.switch_to.default_content()
    assert driver.execute_script("return window.__pwned") is None


def test_csp_header_is_strict_and_enforced(browser, server):
    r = requests.get(server.url + "/ui", timeout=10)
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self';", "connect-src 'self'",
                      "frame-ancestors 'none'", "object-src 'none'",
                      "require-trusted-types-for 'script'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    driver = open_page(browser, server)
    browser.console_errors()
    assert driver.execute_script(
        "return [...document.scripts].filter(s => !s.src || s.textContent.trim()).length") == 0
    assert driver.execute_script(
        "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).length") == 0
    # Each way an injection could run code or leak data, tried for real in the page.
    outcome = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const seen = new Set();
        document.addEventListener('securitypolicyviolation', e => seen.add(e.effectiveDirective));
        const blocked = {};
        const s = document.createElement('script');
        try { s.textContent = 'window.__inline = 1'; document.body.append(s); blocked.script = false; }
        catch (e) { blocked.script = e instanceof TypeError; }
        try { document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__inline=2">');
              blocked.html = false; }
        catch (e) { blocked.html = e instanceof TypeError; }
        // A string timer compiles code later, in the page's own task (a Function built inside
        // WebDriver's call would be exempt, as the DevTools console is).
        try { setTimeout('window.__inline = 3', 0); blocked.eval = 'not thrown'; }
        catch (e) { blocked.eval = e instanceof TypeError; }
        fetch('http://127.0.0.2:9/leak').then(() => { blocked.connect = false; },
                                              () => { blocked.connect = true; });
        const img = new Image();
        img.src = 'http://127.0.0.2:9/leak.png';
        setTimeout(() => done({ran: window.__inline, blocked, seen: [...seen]}), 300);
    """)
    assert outcome["ran"] is None, "injected code ran"
    # Trusted Types refuse the string sinks before CSP's script-src would (both would block).
    assert outcome["blocked"] == {"script": True, "html": True, "eval": True, "connect": True}
    assert {"require-trusted-types-for", "connect-src", "img-src"} <= set(outcome["seen"]), \
        outcome["seen"]
    assert browser.console_errors() != []  # the violations were reported, as they should be


FOCUS_OUTLINE = "return getComputedStyle(document.activeElement).outlineStyle"


def active(driver):
    return driver.execute_script(
        "const a = document.activeElement; return a.id || a.className || a.tagName")


def test_keyboard_only_flow(browser, server):
    driver = open_page(browser, server)
    chain = ActionChains(driver)
    seen = []
    for _ in range(12):
        chain.send_keys(Keys.TAB).perform()
        seen.append(active(driver))
        if "cm-content" in seen[-1]:
            break
        assert driver.execute_script(FOCUS_OUTLINE) == "solid", f"focus not visible on {seen[-1]}"
    assert seen[0] == "skip-link"
    assert {"nav-playground", "nav-dashboard", "language", "example", "timeout", "run"} <= set(seen)
    assert "cm-content" in seen[-1]
    assert driver.execute_script(  # the editor shows its focus on its frame
        "return getComputedStyle(document.querySelector('.cm-editor.cm-focused')).outlineStyle"
    ) == "solid"
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    ActionChains(driver).send_keys("if True:\nprint('kb')").perform()
    assert editor_text(driver) == "if True:\n    print('kb')"  # indented after the colon
    ActionChains(driver).send_keys(Keys.HOME, Keys.TAB).perform()
    assert editor_text(driver).endswith("\n        print('kb')")  # Tab indents, focus stays
    assert "cm-content" in active(driver)
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    assert wait_for_result(driver) == "Finished"
    assert stream_text(driver, "stdout") == "kb\n"
    ActionChains(driver).send_keys(Keys.ESCAPE, Keys.TAB).perform()
    assert active(driver) == "file-input"  # Esc then Tab leaves the editor
    assert driver.execute_script(FOCUS_OUTLINE) == "solid"
    for _ in range(8):  # on to the output filters, pressed with the keyboard
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script("return document.activeElement.dataset.show") == "stderr":
            break
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert driver.execute_script(
        "return document.querySelector('#console').dataset.show") == "stderr"
    nav = driver.find_element(By.ID, "nav-dashboard")
    driver.execute_script("arguments[0].focus()", nav)
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "view-dashboard").is_displayed())


def test_code_and_settings_survive_a_reload(browser, server):
    driver = open_page(browser, server)
    set_code(driver, "print('kept across visits')  # 7")
    timeout = driver.find_element(By.ID, "timeout")
    timeout.clear()
    timeout.send_keys("7", Keys.TAB)
    time.sleep(0.5)  # the editor saves 300 ms after the last change
    driver.refresh()
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
    assert editor_text(driver) == "print('kept across visits')  # 7"
    assert driver.find_element(By.ID, "timeout").get_attribute("value") == "7"


def test_stop_ends_a_running_program(browser, server):
    driver = open_page(browser, server)
    set_code(driver, "import time\nprint('start', flush=True)\ntime.sleep(60)")
    driver.find_element(By.ID, "run").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "stop").is_enabled())
    time.sleep(0.5)
    started = time.monotonic()
    driver.find_element(By.ID, "stop").click()
    assert wait_for_result(driver, timeout=10) == "Stopped"
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 10  # the server cancels the run when its client goes away
    while requests.get(server.url + "/health", timeout=5).json()["runs"]["running"] != 0:
        assert time.monotonic() < deadline, "the stopped run kept running on the server"
        time.sleep(0.2)


def test_wcag_aa_contrast_labels_and_structure(browser, server):
    driver = open_page(browser, server)
    assert run(driver, HOSTILE + "\nimport sys; print('warn', file=sys.stderr)") == "Finished"
    playground = axe_violations(driver)
    assert "color-contrast" in playground["passes"] and "label" in playground["passes"]
    assert playground["violations"] == []
    driver.find_element(By.ID, "nav-dashboard").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#layers-body tr"))
    dashboard = axe_violations(driver)
    assert dashboard["violations"] == []
    driver.find_element(By.ID, "nav-history").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#history-body tr"))
    assert axe_violations(driver)["violations"] == []


def test_history_without_stored_code_says_so(browser, server):
    # HISTORY=metadata (the default): runs are listed, their code is not kept.
    driver = open_page(browser, server)
    assert run(driver, "print('metadata only')") == "Finished"
    driver.find_element(By.ID, "nav-history").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#history-body tr"))
    row = driver.find_element(By.CSS_SELECTOR, "#history-body tr")
    assert row.get_attribute("data-run").startswith("run_") and "ok" in row.text
    row.find_element(By.TAG_NAME, "button").click()
    note = driver.find_element(By.ID, "history-note")
    WebDriverWait(driver, 10).until(lambda d: note.is_displayed())
    assert "did not keep its code" in note.text
    assert driver.execute_script("return location.hash") == "#history"


def test_dashboard_shows_health_runtime_and_activity(browser, server):
    driver = open_page(browser, server, "#dashboard")
    health = requests.get(server.url + "/health", timeout=10).json()
    runtime = requests.get(server.url + "/runtime", timeout=10).json()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#layers-body tr"))
    rows = driver.find_elements(By.CSS_SELECTOR, "#layers-body tr")
    assert [r.find_element(By.TAG_NAME, "th").text for r in rows] == [l["name"] for l in health["layers"]]
    assert driver.find_element(By.ID, "health-status").text == health["status"]
    assert driver.find_element(By.ID, "meter-running-text").text == \
        f"Running: 0 of {health['runs']['capacity']}"
    packages = [r.find_element(By.TAG_NAME, "th").text
                for r in driver.find_elements(By.CSS_SELECTOR, "#packages-body tr")]
    assert packages == sorted(runtime["packages"], key=str.casefold)
    assert driver.find_element(By.ID, "python-version").text == runtime["python_version"]
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#chart-activity path').length") == 2)
    label = driver.find_element(By.CSS_SELECTOR, "#chart-activity svg").get_attribute("aria-label")
    assert label.startswith("Runs in progress: running 0, queued 0")
    # The note says metrics come once the server offers /metrics (issue 16 wired it).
    has_metrics = "/metrics" in requests.get(server.url + "/openapi.json", timeout=10).json()["paths"]
    assert driver.find_element(By.ID, "metrics-note").is_displayed() == (not has_metrics)
