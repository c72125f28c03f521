"""``handouts serve``: find, give, personalise, packet and preview over HTTP, and what keeps it safe.

Most tests drive the app in-process with Starlette's test client (real workers render real
PDFs); the canary and load tests start the real server (uvicorn) as a process and watch its
output. Browser tests (Selenium, axe-core) are in test_serve_browser.py.
"""

from __future__ import annotations

import html
import io
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from pypdf import PdfReader
from starlette.testclient import TestClient

from handouts import loading
from handouts.build import BuildOptions, build, plan
from handouts.errors import GateError, HandoutsError, NotFound, RenderError, UsageError
from handouts.web.app import ServeOptions, create_app, http_status

from .conftest import copy_project
from .helpers import files_under, run_cli
from .test_privacy import encodings, every_decoded_object, outline_and_structure_strings

HANDOUT = "/handout/riverside-spine/endplate-sclerosis/easy/en/regular"
LOCAL = "http://127.0.0.1"


@pytest.fixture
def client(project_dir: Path):
    with TestClient(create_app(ServeOptions(project_dir, allow_drafts=True, watch=False)), base_url=LOCAL) as client:
        yield client


def server_of(client: TestClient):
    return client.app.state.server


def changed(client: TestClient) -> None:
    """What the file watcher does on a save (the watcher itself is tested with a real server)."""
    server_of(client).changes.bump()


def csrf_of(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def pdf_text(data: bytes, page: int = 0) -> str:
    return PdfReader(io.BytesIO(data)).pages[page].extract_text()


# ---------------------------------------------------------------- find


def test_find_lists_every_topic_with_its_levels_and_searches_titles_and_synonyms(client: TestClient) -> None:
    page = client.get("/?clinic=riverside-spine")
    assert page.status_code == 200
    assert "Endplate sclerosis" in page.text and "Subchondral sclerosis" in page.text
    assert page.text.count('class="level"') == 6  # 2 topics × 3 levels
    modic = client.get("/?clinic=riverside-spine&q=modic").text  # a synonym of endplate sclerosis only
    assert "Endplate sclerosis" in modic and "Subchondral sclerosis" not in modic
    assert "0 topics" in client.get("/?clinic=riverside-spine&q=zzzz").text
    spanish = client.get("/?clinic=riverside-spine&language=es&q=ESCLEROSIS").text  # case and accents folded
    assert spanish.count('class="topic"') == 2 and 'lang="es"' in spanish
    easy = client.get("/?clinic=riverside-spine&level=easy").text
    assert easy.count('class="level"') == 2
    large = client.get("/?clinic=riverside-spine&edition=large").text
    assert "/easy/en/large/thumbnail.png" in large


def test_a_front_desk_sees_its_own_clinic_first(project_dir: Path) -> None:
    plain = create_app(ServeOptions(project_dir, allow_drafts=True, watch=False))
    with TestClient(plain, base_url=LOCAL) as client:
        assert '<option value="bangkok-regenerative" selected>' in client.get("/").text  # the first, by id
    own = create_app(ServeOptions(project_dir, allow_drafts=True, watch=False, clinic="riverside-spine"))
    with TestClient(own, base_url=LOCAL) as client:
        page = client.get("/").text
        assert '<option value="riverside-spine" selected>' in page and "Endplate sclerosis" in page
        assert "/clinic/riverside-spine/logo" in page
    with pytest.raises(NotFound, match="no clinic 'nowhere'"):
        create_app(ServeOptions(project_dir, watch=False, clinic="nowhere"))


def test_filters_and_ids_are_validated_as_on_the_command_line(client: TestClient) -> None:
    cases = {
        "/?clinic=nowhere": (404, "no clinic 'nowhere'"),
        "/?level=hard": (404, "no level 'hard'"),
        "/?edition=tiny": (404, "no edition 'tiny'"),
        "/handout/Riverside/endplate-sclerosis/easy/en/regular.pdf": (400, "is not valid"),
        "/handout/riverside-spine/nope/easy/en/regular.pdf": (404, "does not offer nope"),
        "/handout/riverside-spine/endplate-sclerosis/easy/th/regular.pdf": (404, "does not offer"),
        "/handout/riverside-spine/..%2f..%2fetc/easy/en/regular.pdf": (404, "no page at this address"),
        "/clinic/..%2f..%2f/logo": (404, "no page at this address"),
        "/fonts/..%2fhandout.css": (404, "no page at this address"),
        "/nothing/here": (404, "no page at this address"),
    }
    for url, (status, words) in cases.items():
        answer = client.get(url)
        assert answer.status_code == status, url
        assert answer.headers["content-type"].startswith("text/html") and words in html.unescape(answer.text), url
        assert "Traceback" not in answer.text and 'href="/"' in answer.text  # a friendly page, a way back


def test_http_statuses_follow_the_error_tree() -> None:
    assert http_status(NotFound("x")) == 404 and http_status(UsageError("x")) == 400
    assert http_status(GateError("x")) == 409 and http_status(RenderError("x")) == 422
    assert http_status(HandoutsError("x")) == 422


# ---------------------------------------------------------------- give


def test_give_serves_the_build_output_while_it_is_current_and_renders_when_not(project_dir: Path) -> None:
    project = loading.load_project(project_dir)
    report = build(
        project, plan(project, clinics=["riverside-spine"], levels=["easy"]), BuildOptions(allow_drafts=True)
    )
    assert report.ok
    on_disk = (project.output_dir / "riverside-spine/endplate-sclerosis.easy.en.pdf").read_bytes()
    app = create_app(ServeOptions(project_dir, allow_drafts=True, watch=False))
    with TestClient(app, base_url=LOCAL) as client:
        served = client.get(HANDOUT + ".pdf")
        assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
        assert served.content == on_disk  # the built file itself
        assert 'filename="endplate-sclerosis.easy.en.pdf"' in served.headers["content-disposition"]
        assert client.get(HANDOUT + "/download").headers["content-disposition"].startswith("attachment")
        topic = project_dir / "content/endplate-sclerosis.yaml"
        topic.write_text(topic.read_text().replace("Endplate sclerosis", "Endplate sclerosis (new)", 1))
        changed(client)
        fresh = client.get(HANDOUT + ".pdf").content
        assert fresh != on_disk and "Endplate sclerosis (new)" in pdf_text(fresh)  # rendered on demand
        cached = server_of(client).cache.get(
            server_of(client)
            .catalogue()
            .key(server_of(client).catalogue().job("riverside-spine", "endplate-sclerosis", "easy", "en", "regular"))
        )
        assert cached == fresh and client.get(HANDOUT + ".pdf").content == fresh  # and cached by input key
        thumbnail = client.get(HANDOUT + "/thumbnail.png")
        assert thumbnail.status_code == 200 and thumbnail.content.startswith(b"\x89PNG")


def test_a_thumbnail_is_made_once_by_the_worker_that_renders(client: TestClient, monkeypatch) -> None:
    from handouts.web import app as web_app

    again = []
    monkeypatch.setattr(web_app, "thumbnail", lambda data: again.append(data))
    image = client.get(HANDOUT + "/thumbnail.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG") and again == []


def test_a_draft_is_not_given_without_allow_drafts(project_dir: Path) -> None:
    with TestClient(create_app(ServeOptions(project_dir, watch=False)), base_url=LOCAL) as client:
        refused = client.get(HANDOUT + ".pdf")
        assert refused.status_code == 409 and "HL107" in refused.text and "is a draft" in refused.text
        assert client.get(HANDOUT + "/print").status_code == 409
        find = client.get("/?clinic=riverside-spine").text
        assert "Not for patients yet" in find and "Open PDF" not in find
        assert client.get(HANDOUT.replace("/handout/", "/preview/")).status_code == 200  # authors still preview


def test_print_page_embeds_the_pdf(client: TestClient) -> None:
    page = client.get(HANDOUT + "/print")
    assert page.status_code == 200
    assert f'src="{HANDOUT}.pdf"' in page.text and "data-autoprint" in page.text
    assert client.get(HANDOUT + ".pdf").content.startswith(b"%PDF-")


def test_packet_holds_the_chosen_topics(client: TestClient) -> None:
    query = "clinic=riverside-spine&level=easy&language=en&edition=regular"
    one = client.get(HANDOUT + ".pdf").content
    packet = client.get(f"/packet.pdf?{query}&topic=endplate-sclerosis&topic=subchondral-sclerosis")
    assert packet.status_code == 200 and packet.headers["content-type"] == "application/pdf"
    pages = len(PdfReader(io.BytesIO(packet.content)).pages)
    assert pages > len(PdfReader(io.BytesIO(one)).pages)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(packet.content)).pages)
    assert "Endplate sclerosis" in text and "Subchondral sclerosis" in text
    assert client.get(f"/packet.pdf?{query}").status_code == 400
    assert client.get(f"/packet.pdf?{query}&topic=endplate-sclerosis&topic=endplate-sclerosis").status_code == 400


# ---------------------------------------------------------------- personalise


def test_personal_copy_is_posted_printed_and_never_stored(client: TestClient) -> None:
    canary = f"Canary{uuid.uuid4().hex[:10]}"
    token = csrf_of(client, HANDOUT + "/personal")
    form = {"csrf": token, "name": f"Ada {canary}", "note": f"Walk daily {canary}", "date": "2026-12-06"}
    copy = client.post(HANDOUT + "/personal", data=form)
    assert copy.status_code == 200 and copy.headers["content-type"] == "application/pdf"
    assert copy.headers["cache-control"] == "no-store"
    assert canary not in copy.headers["content-disposition"]
    assert f"Prepared for Ada {canary}" in pdf_text(copy.content)
    for where, content in every_decoded_object(copy.content):
        assert not any(spelling in content for spelling in encodings(canary)), where
    assert not any(canary in text for text in outline_and_structure_strings(copy.content))
    server = server_of(client)
    assert not any(canary.encode() in data for data in server.cache._items.values())  # never cached


def test_personal_form_refuses_bad_input_without_repeating_it(client: TestClient) -> None:
    token = csrf_of(client, HANDOUT + "/personal")
    bad = {
        "": "Patient name: give a name",
        "x" * 101: "Patient name: give a name of 1 to 100",
    }
    for name, words in bad.items():
        answer = client.post(HANDOUT + "/personal", data={"csrf": token, "name": name, "note": "", "date": ""})
        assert answer.status_code == 400 and words in answer.text
        assert answer.headers["cache-control"] == "no-store"
    answer = client.post(HANDOUT + "/personal", data={"csrf": token, "name": "A", "note": "", "date": "6/12/26"})
    assert answer.status_code == 400 and "Date: expected a date like" in answer.text


def test_forms_need_their_csrf_token_and_this_site(client: TestClient) -> None:
    token = csrf_of(client, HANDOUT + "/personal")
    form = {"name": "A", "note": "", "date": ""}
    assert client.post(HANDOUT + "/personal", data=form).status_code == 403
    assert client.post(HANDOUT + "/personal", data={**form, "csrf": token + "x"}).status_code == 403
    cross = client.post(HANDOUT + "/personal", data={**form, "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and "another site" in cross.text
    other = client.post(HANDOUT + "/personal", data={**form, "csrf": token}, headers={"Origin": "http://evil.example"})
    assert other.status_code == 403
    assert client.post(HANDOUT + "/personal", data={**form, "csrf": token}).status_code == 200


# ---------------------------------------------------------------- safe by default


def test_only_local_host_names_are_answered_on_127_0_0_1(client: TestClient) -> None:
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    rebound = client.get("/", headers={"Host": "attacker.example"})  # DNS rebinding
    assert rebound.status_code == 421 and "localhost only" in rebound.text


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for url in ("/", HANDOUT + ".pdf", "/nothing"):
        headers = client.get(url).headers
        assert "default-src 'self'" in headers["content-security-policy"], url
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    logo = client.get("/clinic/riverside-spine/logo")
    assert logo.status_code == 200 and logo.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_token_is_needed_when_others_can_reach_the_server(project_dir: Path) -> None:
    secret = "correct-horse-battery"
    app = create_app(ServeOptions(project_dir, token=secret, local=False, allow_drafts=True, watch=False))
    with TestClient(app, base_url="http://handouts.clinic.example") as client:
        first = client.get(HANDOUT + ".pdf", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        token = csrf_of(client, "/login")
        wrong = client.post("/login", data={"csrf": token, "token": "guess", "next": "/"}, follow_redirects=False)
        assert wrong.status_code == 401 and "not right" in wrong.text
        away = client.post(
            "/login", data={"csrf": token, "token": secret, "next": "//evil.example/"}, follow_redirects=False
        )
        assert away.status_code == 303 and away.headers["location"] == "/"  # never to another site
        assert client.get(HANDOUT + ".pdf").status_code == 200  # the cookie now
    with TestClient(app, base_url="http://handouts.clinic.example") as script:
        assert script.get("/", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        assert script.get("/", headers={"Authorization": "Bearer nope"}, follow_redirects=False).status_code == 303


def test_serve_refuses_to_open_up_without_a_token(project_dir: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2 and "give --token" in err
    code, _, err = run_cli(capsys, "serve", "--host", "0.0.0.0", "--token", "short")
    assert code == 2 and "at least 12 characters" in err
    code, out, _ = run_cli(capsys, "serve", "--help")
    assert code == 0 and "--allow-drafts" in out and "HANDOUTS_TOKEN" in out


# ---------------------------------------------------------------- preview


def test_preview_shows_the_pages_and_what_check_finds(client: TestClient, project_dir: Path) -> None:
    url = HANDOUT.replace("/handout/", "/preview/")
    page = client.get(url)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    images = re.findall(r'<img src="([^"]+page-\d+\.png[^"]*)"', page.text)
    assert len(images) == 2  # easy fits one sheet
    assert all(client.get(src.replace("&amp;", "&")).content.startswith(b"\x89PNG") for src in images)
    assert "What check finds" in page.text
    topic = project_dir / "content/endplate-sclerosis.yaml"
    text = topic.read_text()
    topic.write_text(text.replace("status: draft", "status: drafty", 1))
    changed(client)
    finding = client.get(url + "?part=body").text
    assert "content/endplate-sclerosis.yaml:" in finding and "<html" not in finding  # the body alone, for swapping


def test_preview_shows_a_broken_yaml_file_instead_of_crashing(client: TestClient, project_dir: Path) -> None:
    url = HANDOUT.replace("/handout/", "/preview/")
    topic = project_dir / "content/endplate-sclerosis.yaml"
    topic.write_text(topic.read_text() + "\ntitle: [unclosed\n")
    changed(client)
    page = client.get(url)
    assert page.status_code == 200 and "notice-error" in page.text
    assert re.search(r"content/endplate-sclerosis\.yaml:\d+", page.text)
    (project_dir / "handouts.yaml").write_text("levels: [\n")  # even the project file
    changed(client)
    page = client.get(url)
    assert page.status_code == 200 and "handouts.yaml:" in page.text
    assert client.get("/").status_code == 422  # the find page says what is wrong, too


def test_saving_any_kind_of_project_file_is_a_change(project_dir: Path) -> None:
    """docs/serve.md: a topic, a translation, a clinic folder, a template or handouts.yaml."""
    import asyncio

    from handouts.web.watch import Changes, watch, watched

    saved = [
        "content/endplate-sclerosis.yaml",
        "content/translations/es/endplate-sclerosis.po",
        "templates/clinics/riverside-spine/clinic.yaml",
        "templates/handout.css",
        "handouts.yaml",
    ]

    async def save_each() -> list[int]:
        changes, stop = Changes(), asyncio.Event()
        paths = watched(project_dir, project_dir / "content", project_dir / "templates")
        watcher = asyncio.create_task(watch(paths, changes, stop))
        await asyncio.sleep(1.0)  # the watcher is up
        seen = []
        for name in saved:
            before = changes.generation
            with (project_dir / name).open("a", encoding="utf-8") as file:
                file.write("\n")
            seen.append(await changes.next_change(before, timeout=10) - before)
        stop.set()
        await asyncio.wait_for(watcher, 10)
        return seen

    assert all(bumps >= 1 for bumps in asyncio.run(save_each()))  # each save seen (an editor may write twice)


# ---------------------------------------------------------------- the real server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RealServer:
    """``handouts serve`` as a process, its output captured in files, its temp and cache folders private."""

    def __init__(self, root: Path, scratch: Path):
        self.port = free_port()
        self.out, self.err = scratch / "stdout.txt", scratch / "stderr.txt"
        self.temp, self.home = scratch / "tmp", scratch / "home"
        self.temp.mkdir()
        self.home.mkdir()
        env = {**os.environ, "TMPDIR": str(self.temp), "HOME": str(self.home), "XDG_CACHE_HOME": str(self.home / ".c")}
        argv = [sys.executable, "-m", "handouts", "--project", str(root), "serve", "--port", str(self.port)]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen([*argv, "--allow-drafts"], stdout=out, stderr=err, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urlopen(self.base + "/", timeout=30).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise AssertionError("the server did not start:\n" + self.err.read_text()) from None
                time.sleep(0.3)

    def get(self, path: str) -> tuple[int, Message, bytes]:
        try:
            with urlopen(self.base + path, timeout=120) as answer:
                return answer.status, answer.headers, answer.read()
        except HTTPError as error:
            return error.code, error.headers, error.read()

    def post(self, path: str, form: dict, cookie: str) -> tuple[int, Message, bytes]:
        request = Request(self.base + path, data=urlencode(form).encode(), method="POST")
        request.add_header("Cookie", cookie)
        request.add_header("Origin", self.base)
        try:
            with urlopen(request, timeout=120) as answer:
                return answer.status, answer.headers, answer.read()
        except HTTPError as error:
            return error.code, error.headers, error.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def real_server(tmp_path: Path):
    root = copy_project(tmp_path / "project")
    server = RealServer(root, tmp_path)
    yield server, root
    server.stop()


def form_token(server: RealServer, path: str) -> tuple[str, str]:
    with urlopen(server.base + path, timeout=60) as answer:
        cookie = answer.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([^"]+)"', answer.read().decode()).group(1)
    return token, cookie


@pytest.mark.slow
def test_canary_name_is_found_nowhere_but_in_the_returned_pdf(real_server, tmp_path: Path) -> None:
    server, _ = real_server
    canary = f"Canary{uuid.uuid4().hex[:12]}"
    token, cookie = form_token(server, HANDOUT + "/personal")
    copies = []
    for level in ("easy", "standard"):
        path = HANDOUT.replace("/easy/", f"/{level}/") + "/personal"
        form = {"csrf": token, "name": f"Ada {canary}", "note": f"Call {canary}-note", "date": "2026-12-06"}
        status, headers, data = server.post(path, form, cookie)
        assert status == 200 and headers["Cache-Control"] == "no-store"
        assert f"Prepared for Ada {canary}" in pdf_text(data)
        copies.append(data)
    status, _, page = server.post(HANDOUT + "/personal", {"csrf": token, "name": canary, "date": "soon"}, cookie)
    assert status == 400 and b"Date: expected a date" in page  # a refused form: re-shown to the sender only
    status, _, _ = server.post(HANDOUT + "/personal", {"csrf": "forged", "name": canary}, cookie)
    assert status == 403
    server.stop()
    output = server.out.read_bytes() + server.err.read_bytes()
    assert b"POST " + HANDOUT.encode() + b"/personal" in output  # the access log is on, and it saw the posts
    assert not any(spelling in output for spelling in encodings(canary))
    for data in copies:
        assert not any(canary in text for text in outline_and_structure_strings(data))
    for path in files_under(tmp_path):  # the project (output folder too), temp folder, home and caches
        assert canary not in str(path)
        if path.is_file() and path not in (server.out, server.err):
            assert not any(s in path.read_bytes() for s in encodings(canary)), path


@pytest.mark.slow
def test_twenty_concurrent_pdf_requests_all_succeed(real_server) -> None:
    server, _ = real_server
    urls = [
        f"/handout/{clinic}/{topic}/{level}/{language}/{edition}.pdf"
        for clinic, languages in (("riverside-spine", ("en", "es")), ("bangkok-regenerative", ("th", "en")))
        for topic in ("endplate-sclerosis", "subchondral-sclerosis")
        for language in languages
        for level in ("easy", "standard")
        for edition in ("regular", "large")
    ][:20]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(server.get, urls))
    assert [status for status, _, _ in answers] == [200] * 20
    assert all(data.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(data)).pages) >= 1 for _, _, data in answers)
    assert len({data for _, _, data in answers}) == 20  # twenty different handouts, each rendered
    status, _, page = server.get("/")
    assert status == 200 and b"Find a handout" in page  # and the server still answers


@pytest.mark.slow
def test_an_open_preview_does_not_keep_the_server_from_stopping(real_server) -> None:
    server, _ = real_server
    stream = urlopen(server.base + "/events", timeout=30)  # what an open preview tab holds
    assert stream.readline().startswith(b"retry:")
    server.process.terminate()
    try:
        assert server.process.wait(timeout=15) is not None  # uvicorn's grace period, then it stops
    finally:
        stream.close()
