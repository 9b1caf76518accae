"""Driving the /ui page in tests: open it, put code in the editor, run, read the output, check
its accessibility with axe-core."""
import os
import pathlib

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait


def open_page(browser, server, fragment=""):
    """Loads /ui (fresh document) and waits until its script has wired everything up."""
    browser.driver.get(f"{server.url}/ui{fragment}")
    WebDriverWait(browser.driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
    return browser.driver


def set_code(driver, code):
    """Replaces the editor's text the way a paste would (CDP Input.insertText, no auto-indent)."""
    editor = driver.find_element(By.CSS_SELECTOR, ".cm-content")
    editor.click()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    editor.send_keys(Keys.DELETE)
    driver.execute_cdp_cmd("Input.insertText", {"text": code})


def editor_text(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('.cm-content .cm-line')]"
        ".map(l => l.textContent).join('\\n')")


def wait_for_result(driver, timeout=60):
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "return document.body.dataset.running === 'false'"))
    return driver.find_element(By.ID, "run-status").text


def run(driver, code, timeout=60):
    set_code(driver, code)
    driver.find_element(By.ID, "run").click()
    return wait_for_result(driver, timeout)


def stream_text(driver, stream):
    return driver.execute_script(
        "return [...document.querySelectorAll(`#console [data-stream='${arguments[0]}']`)]"
        ".map(s => s.textContent).join('')", stream)


def axe_violations(driver):
    axe = pathlib.Path(os.environ["PYSANDBOX_WEB_BUILD"]) / "node_modules/axe-core/axe.min.js"
    source = axe.read_text()
    driver.execute_script(source + "\nwindow.axe = axe;")
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag',
                                     values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
           .then(r => done({violations: r.violations.map(v => ({id: v.id,
                    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})),
                  passes: r.passes.map(p => p.id)}))
           .catch(e => done({error: String(e)}));
    """)
    assert "error" not in result, result
    return result
