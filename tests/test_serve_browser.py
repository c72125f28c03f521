"""``handouts serve`` in a real browser (Debian's chromium + chromium-driver, through Selenium).

The server runs as a subprocess on a private copy of the sample project, exactly as a user
starts it; a headless Chromium finds, opens, prints, personalises and packs handouts, watches
a live preview follow a broken and a mended topic file, and axe-core checks every page
against WCAG 2.1 A and AA.

Slow tier (``pytest --full`` or ``-m slow``). Skips when chromium or chromedriver is not
installed (CI: ``apt-get install chromium chromium-driver``); the axe checks also skip when
tests/.cache/axe.min.js is missing (get it with ``python tests/tools/fetch_axe.py``).
Set HANDOUTS_SCREENSHOTS=<folder> to keep a screenshot of each page visited.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from pypdf import PdfReader

from .conftest import copy_project

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / ".cache" / "axe.min.js"
START_TIMEOUT = 60.0  # seconds for the server to answer GET /
WAIT = 20.0  # seconds for anything the browser waits for
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

PREVIEW_PATH = "/preview/riverside-spine/endplate-sclerosis/easy/en/regular"


# ---------------------------------------------------------------- HTTP from Python


class Fetched:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 120) -> Fetched:
    """GET (or POST ``data``) ``url``; an HTTP error status is returned, not raised."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Fetched(error.code, error.headers, error.read())


def pdf_pages(fetched: Fetched, what: str) -> int:
    """``fetched`` is a valid PDF; its page count."""
    assert fetched.status == 200, f"{what}: HTTP {fetched.status}: {fetched.body[:300]!r}"
    assert fetched.content_type.startswith("application/pdf"), f"{what}: Content-Type {fetched.content_type}"
    assert fetched.body.startswith(b"%PDF"), f"{what}: does not start with %PDF: {fetched.body[:40]!r}"
    pages = len(PdfReader(io.BytesIO(fetched.body)).pages)
    assert pages >= 1, f"{what}: no pages"
    return pages


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _command(root: Path, port: int) -> list[str]:
    script = Path(sys.executable).with_name("handouts")
    start = [str(script)] if script.is_file() else [sys.executable, "-m", "handouts"]
    return [*start, "--project", str(root), "serve", "--port", str(port), "--allow-drafts"]


class Site:
    """The running server: its base URL and the project folder it serves."""

    def __init__(self, root: Path, base: str):
        self.root, self.base = root, base

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base, path)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """``handouts serve --allow-drafts`` on a private copy of the sample project."""
    folder = tmp_path_factory.mktemp("serve")
    root = copy_project(folder / "project")
    log_path = folder / "serve.log"
    env = {key: value for key, value in os.environ.items() if key != "SOURCE_DATE_EPOCH"}

    def log() -> str:
        return log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    for _attempt in range(3):  # another program may take the free port before the server binds it
        port = _free_port()
        base = f"http://127.0.0.1:{port}/"
        with log_path.open("ab") as sink:
            process = subprocess.Popen(
                _command(root, port), cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + START_TIMEOUT
        answered = False
        while time.monotonic() < deadline and process.poll() is None:
            # Ours once uvicorn says it listens on this port (not some other program that took it) and / answers.
            try:
                answered = f"running on {base.rstrip('/')} " in log() and fetch(base, timeout=5).status == 200
            except OSError:
                answered = False
            if answered:
                break
            time.sleep(0.25)
        if answered:
            break
        _stop(process)
        if "address already in use" not in log():
            pytest.fail(f"handouts serve did not answer GET / within {START_TIMEOUT:.0f} s. Its log:\n{log()}")
    else:
        pytest.fail(f"handouts serve found no free port. Its log:\n{log()}")

    try:
        yield Site(root, base)
    finally:
        _stop(process)
        assert process.returncode is not None


# ---------------------------------------------------------------- the browser


def _chromedriver() -> str | None:
    found = shutil.which("chromedriver")
    if found:
        return found
    return "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").is_file() else None


@pytest.fixture(scope="module")
def driver():
    """Headless Chromium under Selenium; Selenium Manager never runs (both paths are given)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver)")
    chromedriver = _chromedriver()
    if chromedriver is None:
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_page_load_timeout(120)
    browser.set_script_timeout(120)
    try:
        yield browser
    finally:
        browser.quit()


def wait(browser, condition, message: str, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(condition, message)


def by_css(browser, selector: str):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, selector)


def link(browser, text: str, index: int = 0):
    """The ``index``-th link whose text starts with ``text`` (the visually hidden suffix included)."""
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.XPATH, f"//a[starts-with(normalize-space(.), '{text}')]")
    assert len(found) > index, f"no link {text!r} number {index + 1} on {browser.current_url}"
    return found[index]


def labelled(browser, label: str):
    """The form control that the ``<label>`` reading ``label`` belongs to."""
    from selenium.webdriver.common.by import By

    labels = [e for e in browser.find_elements(By.TAG_NAME, "label") if e.get_attribute("textContent").strip() == label]
    assert labels, f"no label {label!r} on {browser.current_url}"
    target = labels[0].get_attribute("for")
    assert target, f"label {label!r} is not tied to a control (no for=)"
    return browser.find_element(By.ID, target)


def body_data(browser, key: str) -> str | None:
    return browser.execute_script("return document.body.dataset[arguments[0]] ?? null;", key)


def screenshot(browser, name: str) -> None:
    """With HANDOUTS_SCREENSHOTS=<folder>, keep a full-page screenshot of what the browser shows."""
    folder = os.environ.get("HANDOUTS_SCREENSHOTS")
    if not folder:
        return
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    try:
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
    except Exception:  # screenshots are for humans: the viewport will do
        browser.save_screenshot(str(path))


# ---------------------------------------------------------------- front desk


def test_search_finds_by_synonym_and_says_when_nothing_matches(driver, site):
    from selenium.webdriver.support.ui import Select

    driver.get(site.url("/"))
    assert len(by_css(driver, "li.topic")) == 2, "the sample project has two topics"
    for label in ("Search topics", "Clinic", "Reading level", "Language", "Print size"):
        assert labelled(driver, label).is_displayed()

    Select(labelled(driver, "Clinic")).select_by_value("riverside-spine")
    Select(labelled(driver, "Language")).select_by_value("en")
    search = labelled(driver, "Search topics")
    search.clear()
    search.send_keys("modic")
    driver.find_element("xpath", "//button[normalize-space(.)='Show handouts']").click()
    wait(driver, lambda d: "q=modic" in d.current_url, "the search did not submit")
    assert "clinic=riverside-spine" in driver.current_url
    screenshot(driver, "find-modic")
    topics = by_css(driver, "li.topic")
    assert [t.find_element("css selector", "h2").text for t in topics] == ["Endplate sclerosis"]
    assert driver.find_element("css selector", ".count").text.startswith("1 topic")

    search = labelled(driver, "Search topics")
    assert search.get_attribute("value") == "modic", "the search box keeps what was typed"
    search.clear()
    search.send_keys("zzzz")
    search.submit()
    wait(driver, lambda d: "q=zzzz" in d.current_url, "the search did not submit")
    assert by_css(driver, "li.topic") == []
    assert driver.find_element("css selector", ".count").text.startswith("0 topics")


def test_keyboard_alone_reaches_every_action_and_targets_are_large(driver, site):
    """docs/serve.md: the skip link is the first stop, Tab reaches the actions, controls are 44 px high."""
    from selenium.webdriver.common.keys import Keys

    driver.get(site.url("/?clinic=riverside-spine&language=en"))
    body = driver.find_element("css selector", "body")
    body.send_keys(Keys.TAB)
    first = driver.switch_to.active_element
    assert first.text == "Skip to main content"
    first.send_keys(Keys.ENTER)
    wait(driver, lambda d: d.current_url.endswith("#main"), "the skip link did not move to the main content")
    reached = []
    for _ in range(60):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        reached.append(driver.switch_to.active_element.text.split("\n")[0].strip())
        if reached[-1].startswith("Open PDF"):
            break
    assert reached[-1].startswith("Open PDF") and "Show handouts" in reached, reached
    for action in ("Print", "Download", "Personalise", "Preview"):  # then each action of that handout, in order
        driver.switch_to.active_element.send_keys(Keys.TAB)
        assert driver.switch_to.active_element.text.startswith(action)
    heights = driver.execute_script(
        "return [...document.querySelectorAll('.button, button, input:not([type=checkbox]):not([type=hidden]),"
        " select')].map(e => [e.textContent.trim() || e.id, e.getBoundingClientRect().height]);"
    )
    assert heights and all(height >= 44 for _, height in heights), [h for h in heights if h[1] < 44]


def test_open_pdf_link_gives_a_pdf(driver, site):
    driver.get(site.url("/"))
    first = link(driver, "Open PDF")
    name = first.get_attribute("textContent")
    assert re.fullmatch(r"Open PDF – .+, .+", name.strip()), f"link text without its hidden suffix: {name!r}"
    href = first.get_attribute("href")
    assert href.startswith(site.base) and href.endswith(".pdf"), href
    pdf_pages(fetch(href), href)


def test_print_view_loads_the_pdf(driver, site):
    driver.get(site.url("/"))
    link(driver, "Print").click()
    wait(driver, lambda d: "/print" in d.current_url, "the Print link did not open the print view")
    wait(driver, lambda d: body_data(d, "pdfLoaded") == "1", "the PDF frame never loaded (data-pdf-loaded)")
    screenshot(driver, "print")
    frame = driver.find_element("css selector", "iframe#pdf-frame[data-autoprint]")
    src = frame.get_attribute("src")
    assert src.endswith(".pdf"), src
    assert driver.find_element("id", "print-now").is_displayed()
    pdf_pages(fetch(src), src)


def test_personalise_prints_the_name_on_page_one_only_in_the_pdf(driver, site):
    canary = "Canary" + secrets.token_hex(4)
    driver.get(site.url("/?clinic=riverside-spine&language=en"))
    link(driver, "Personalise").click()
    wait(driver, lambda d: d.current_url.endswith("/personal"), "the Personalise link did not open the form")
    page_url = driver.current_url
    screenshot(driver, "personal")
    form = driver.find_element("css selector", "form[method=post]")
    action = form.get_attribute("action")
    token = form.find_element("css selector", "input[type=hidden][name=csrf]").get_attribute("value")
    assert token
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    assert cookies.get("handouts-csrf") == token, "the form's token is the cookie's"

    # The browser submits it; the PDF it gets back goes to its viewer, which Selenium cannot read.
    name = labelled(driver, "Patient name")
    name.send_keys(canary)
    driver.find_element("xpath", "//button[normalize-space(.)='Make personalised PDF']").click()
    wait(driver, lambda d: not d.find_elements("id", "name"), "the form did not submit")
    assert canary not in driver.current_url, "the patient's name leaked into the URL"
    assert driver.current_url.startswith(action.split("?")[0])

    # The same form from Python, with the browser's cookie and token.
    origin = site.base.rstrip("/")
    body = urllib.parse.urlencode({"csrf": token, "name": canary, "note": "", "date": ""}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "Origin": origin,
        "Referer": page_url,
    }
    answer = fetch(action, data=body, headers=headers)
    pdf_pages(answer, "personalised copy")
    assert "no-store" in answer.headers.get("Cache-Control", ""), answer.headers.get("Cache-Control")
    first_page = PdfReader(io.BytesIO(answer.body)).pages[0].extract_text() or ""
    assert f"Prepared for {canary}" in " ".join(first_page.split()), first_page[:500]

    # Without the token the same POST is refused.
    refused = fetch(action, data=body.replace(token.encode(), b"x" * len(token)), headers=headers)
    assert refused.status == 403 and canary.encode() not in refused.body


def test_packet_of_two_topics_is_longer_than_either(driver, site):
    from selenium.webdriver.support.ui import Select

    driver.get(site.url("/?clinic=riverside-spine&language=en"))
    boxes = by_css(driver, "input[type=checkbox][name=topic][form=packet]")
    assert len(boxes) == 2
    for box in boxes:
        label = driver.find_element("css selector", f"label[for='{box.get_attribute('id')}']")
        assert label.text == "Add to packet"
        box.click()
        assert box.is_selected()
    level = Select(driver.find_element("id", "packet-level"))
    level.select_by_value("easy")
    driver.find_element("xpath", "//button[normalize-space(.)='Make packet PDF']").click()
    wait(driver, lambda d: "/packet.pdf?" in d.current_url, "Make packet PDF did not go to /packet.pdf")
    url = driver.current_url
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert sorted(query["topic"]) == ["endplate-sclerosis", "subchondral-sclerosis"]
    assert query["level"] == ["easy"]

    packet = pdf_pages(fetch(url), url)
    clinic, language, edition = query["clinic"][0], query["language"][0], query["edition"][0]
    singles = [
        pdf_pages(fetch(site.url(f"/handout/{clinic}/{topic}/easy/{language}/{edition}.pdf")), topic)
        for topic in query["topic"]
    ]
    assert packet > max(singles), f"packet has {packet} pages, the handouts {singles}"


# ---------------------------------------------------------------- live preview


def _preview_state(browser) -> tuple[int, list[str]]:
    pages = len(by_css(browser, "#preview section.pages img"))
    findings = [e.text for e in by_css(browser, "#preview section.check li, #preview section.check p")]
    return pages, findings


def test_preview_follows_a_broken_and_a_mended_file(driver, site):
    topic_file = site.root / "content" / "endplate-sclerosis.yaml"
    original = topic_file.read_text(encoding="utf-8")
    driver.get(site.url(PREVIEW_PATH))
    assert driver.find_elements("css selector", "#preview[data-live-preview]")
    wait(driver, lambda d: by_css(d, "#preview section.pages img"), "the preview shows no pages")
    screenshot(driver, "preview")
    assert not by_css(driver, "#preview .notice-error")
    pages, findings = _preview_state(driver)
    assert pages >= 1 and findings
    first = body_data(driver, "refreshed")

    try:
        topic_file.write_text(original + "title: [unclosed\n", encoding="utf-8")

        def broken_shown(browser):
            notices = by_css(browser, "#preview .notice-error")
            return notices and "endplate-sclerosis.yaml" in notices[0].text and not by_css(browser, "section.pages img")

        wait(driver, broken_shown, "the preview never showed the broken file's error")
        screenshot(driver, "preview-broken")
        message = by_css(driver, "#preview .notice-error")[0].text
        assert re.search(r"endplate-sclerosis\.yaml:\d+", message), message
        broken = body_data(driver, "refreshed")
        assert broken is not None and broken != first
    finally:
        topic_file.write_text(original, encoding="utf-8")

    def mended(browser):
        return (
            by_css(browser, "#preview section.pages img")
            and not by_css(browser, "#preview .notice-error")
            and body_data(browser, "refreshed") != broken
        )

    wait(driver, mended, "the preview did not come back after the file was mended")
    assert int(body_data(driver, "refreshed")) > int(broken)
    assert _preview_state(driver) == (pages, findings)


# ---------------------------------------------------------------- accessibility (axe-core)


AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(results => done({violations: results.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.slice(0, 3).map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
      count: v.nodes.length}))}))
  .catch(error => done({error: String(error && error.stack || error)}));
"""

AXE_PAGES = {
    "find": "/",
    "find-thai": "/?clinic=bangkok-regenerative",
    "print": "/handout/riverside-spine/endplate-sclerosis/easy/en/regular/print",
    "personal": "/handout/riverside-spine/endplate-sclerosis/easy/en/regular/personal",
    "preview": PREVIEW_PATH,
    "error": "/handout/riverside-spine/nope/easy/en/regular.pdf",
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing: get axe-core with `python tests/tools/fetch_axe.py`")
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(AXE_PAGES))
def test_page_has_no_wcag_violations(driver, site, axe_source, name):
    driver.get(site.url(AXE_PAGES[name]))
    if name == "print":
        wait(driver, lambda d: body_data(d, "pdfLoaded") == "1", "the PDF frame never loaded")
    if name == "preview":
        wait(driver, lambda d: by_css(d, "#preview section.pages img"), "the preview shows no pages")
    if name == "error":
        assert driver.find_elements("css selector", ".notice-error"), "the error page shows no error"
    if name == "find-thai":
        titles = [e.text for e in by_css(driver, "li.topic h2")]
        assert titles and all(re.search("[\u0e00-\u0e7f]", t) for t in titles), titles
    driver.execute_script("return document.fonts ? document.fonts.ready : null;")
    screenshot(driver, f"axe-{name}")

    driver.execute_script(axe_source)
    assert driver.execute_script("return typeof window.axe;") == "object", "axe-core did not load"
    result = driver.execute_async_script(AXE_RUN, WCAG_TAGS)
    assert "error" not in result, result.get("error")
    violations = result["violations"]
    if violations:
        lines = [f"{len(violations)} WCAG violation(s) on {driver.current_url}:"]
        for v in violations:
            lines.append(f"- {v['id']} ({v['impact']}, {v['count']} node(s)): {v['help']} <{v['helpUrl']}>")
            node = v["nodes"][0]
            lines.append(f"    target: {json.dumps(node['target'])}")
            lines.append(f"    html:   {node['html'][:300]}")
            lines.append("    " + (node["summary"] or "").replace("\n", "\n    "))
        report = "\n".join(lines)
        print(report)
        pytest.fail(report, pytrace=False)
