"""Benchmark: ``handouts serve`` as a client sees it, over HTTP on this machine.

Copies the sample project (handouts.yaml, content/, templates/) to a temporary folder, so
there is no build output and every handout is rendered on demand, starts
``handouts --project <copy> serve --port PORT --allow-drafts --jobs N`` as a subprocess,
and measures, with stdlib HTTP clients (urllib, http.client, threads):

  (a) uncached render: the first GET of each distinct handout PDF (every clinic, topic,
      level, language and edition: 48 for the samples), one after another
  (b) cached PDF: repeated GETs of handouts already fetched (cycling over them)
  (c) personalised copy: POSTs of the personalise form (csrf field + cookie, Origin),
      each with a different name; never cached, so each is a render
  (d) 20 concurrent personalised POSTs, and 20 concurrent GETs of 20 different uncached
      handouts (those of the topic the edits in (e) changed): all must be a PDF; wall time
  (e) preview refresh: with an open /events stream, append a YAML comment to a topic file,
      time until the stream says ``data: <generation>``, then until the preview page of
      that topic answers 200 (its render is part of the refresh); median of 5 edits 1 s apart
  (m) memory: RSS of the server process and of all its descendants (the zygote and the
      render workers; /proc/<pid>/task/*/children, VmRSS) after warm-up and after 100 and
      --requests requests (cached GETs, and every third a personalised POST)

It prints p50/p95 latencies in ms with the count, and a table with the goals. Usage:

    .venv/bin/python bench/bench_serve.py [--jobs 2] [--requests 500] [--port PORT]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import math
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

CLINICS = {"riverside-spine": ["en", "es"], "bangkok-regenerative": ["th", "en"]}
TOPICS = ["endplate-sclerosis", "subchondral-sclerosis"]
LEVELS = ["easy", "standard", "detailed"]
EDITIONS = ["regular", "large"]
EDITED_TOPIC = "endplate-sclerosis"  # (e) appends comments to content/<this>.yaml
PREVIEW = f"/preview/riverside-spine/{EDITED_TOPIC}/easy/en/regular"
PERSONAL = f"/handout/riverside-spine/{EDITED_TOPIC}/standard/en/regular/personal"

REFRESH_GOAL_S = 2.0
FLAT_GOAL_MIB = 5.0  # "flat": the change in RSS stays within this

# No proxies: the server is on 127.0.0.1, whatever http_proxy says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def handout_paths() -> list[str]:
    return [
        f"/handout/{clinic}/{topic}/{level}/{language}/{edition}.pdf"
        for clinic, languages in CLINICS.items()
        for topic in TOPICS
        for level in LEVELS
        for language in languages
        for edition in EDITIONS
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_project(target: Path) -> Path:
    target.mkdir()
    shutil.copy2(REPO / "handouts.yaml", target / "handouts.yaml")
    shutil.copytree(REPO / "content", target / "content")
    shutil.copytree(REPO / "templates", target / "templates")
    return target


class Client:
    """Requests to the server at 127.0.0.1:port: (status, headers, body, seconds)."""

    def __init__(self, port: int):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def request(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout=120.0):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        started = time.perf_counter()
        try:
            with OPENER.open(request, timeout=timeout) as response:
                body = response.read()
                status, head = response.status, response.headers
        except urllib.error.HTTPError as error:
            body, status, head = error.read(), error.code, error.headers
        return status, head, body, time.perf_counter() - started

    def pdf(self, path: str) -> tuple[bool, float]:
        status, _, body, seconds = self.request(path)
        return status == 200 and body.startswith(b"%PDF"), seconds

    def form(self, path: str) -> tuple[str, str]:
        """The personalise form's CSRF token and the cookie that must come with it."""
        status, head, body, _ = self.request(path)
        assert status == 200, f"GET {path}: {status}"
        tag = re.search(rb'<input[^>]*name="csrf"[^>]*>', body)
        value = re.search(rb'value="([^"]*)"', tag.group(0)) if tag else None
        cookie = re.search(r"handouts-csrf=([^;]+)", head.get("Set-Cookie", ""))
        assert value and cookie, "no csrf field or cookie in the personalise form"
        return value.group(1).decode(), cookie.group(1)

    def personal(self, path: str, csrf: str, cookie: str, name: str) -> tuple[bool, float]:
        fields = {"csrf": csrf, "name": name, "note": "Bring your scans.", "date": "2026-03-14"}
        headers = {
            "Cookie": f"handouts-csrf={cookie}",
            "Origin": self.base,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status, _, body, seconds = self.request(path, urllib.parse.urlencode(fields).encode(), headers)
        return status == 200 and body.startswith(b"%PDF"), seconds


def start_server(root: Path, port: int, jobs: int, log: Path) -> subprocess.Popen:
    argv = [str(BIN / "handouts"), "--project", str(root), "serve", "--port", str(port), "--allow-drafts"]
    with log.open("wb") as out:
        return subprocess.Popen([*argv, "--jobs", str(jobs)], cwd=root, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(server: subprocess.Popen, client: Client, log: Path, limit: float = 90.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if client.request("/", timeout=5)[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer GET / within {limit:.0f} s:\n{log.read_text()[-3000:]}")


def descendants(pid: int) -> list[int]:
    return [pid for child in _children(pid) for pid in (child, *descendants(child))]


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Memory(NamedTuple):
    """RSS in MiB: the server process, its direct children (the zygote), the live render workers
    (the zygote's children; a retired worker's zombie has no memory and is not counted)."""

    server: float
    zygote: float
    workers: list[float]

    @property
    def descendants(self) -> float:
        return self.zygote + sum(self.workers)

    def line(self, label: str) -> str:
        largest = max(self.workers, default=0.0)
        return (
            f"      {label:>6}: server {self.server:6.1f}  zygote {self.zygote:6.1f}  workers {sum(self.workers):6.1f}"
            f" ({len(self.workers)}, largest {largest:6.1f})  total {self.server + self.descendants:6.1f}"
        )


def memory(pid: int) -> Memory:
    time.sleep(0.5)  # let workers finish what they were doing
    zygote, workers = 0.0, []
    for child in _children(pid):
        zygote += rss_kib(child) / 1024
        workers += [rss_kib(worker) / 1024 for worker in descendants(child) if rss_kib(worker)]
    return Memory(rss_kib(pid) / 1024, zygote, workers)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += map(int, (task / "children").read_text().split())
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]  # nearest rank


def latency(values: list[float]) -> str:
    ms = [value * 1000 for value in values]
    return f"p50 {percentile(ms, 0.5):8.1f}  p95 {percentile(ms, 0.95):8.1f} ms  (n={len(ms)})"


class Events:
    """An open /events stream; each ``data:`` line lands in a queue as (arrival time, generation)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
        self.connection.request("GET", "/events?since=0", headers={"Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200, f"/events: {self.response.status}"
        self.lines: queue.Queue[tuple[float, int]] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while line := self.response.readline():
                if line.startswith(b"data:"):
                    self.lines.put((time.perf_counter(), int(line[5:].strip())))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the stream closed (we close it at the end)

    def latest(self, wait: float = 0.0) -> int:
        """The highest generation announced so far (waiting up to ``wait`` s for the first)."""
        newest = -1
        deadline = time.perf_counter() + wait
        while True:
            try:
                newest = max(newest, self.lines.get(timeout=max(0.0, deadline - time.perf_counter()))[1])
            except queue.Empty:
                return newest

    def next_after(self, generation: int, timeout: float = 30.0) -> tuple[float, int]:
        deadline = time.perf_counter() + timeout
        while True:
            arrived, announced = self.lines.get(timeout=max(0.01, deadline - time.perf_counter()))
            if announced > generation:
                return arrived, announced

    def close(self) -> None:
        # shutdown first: it wakes the reader thread and the server sees the disconnect
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
        self.connection.close()


def refresh(client: Client, events: Events, topic_file: Path, edits: int) -> tuple[list[float], list[float], list]:
    """Seconds from saving ``topic_file`` to the event, and to the refreshed preview page."""
    to_event, to_preview, problems = [], [], []
    generation = events.latest(wait=2.0)
    for edit in range(edits):
        time.sleep(1.0)
        generation = max(generation, events.latest())
        with topic_file.open("a", encoding="utf-8") as out:
            out.write(f"# bench_serve edit {edit}\n")
        saved = time.perf_counter()
        try:
            arrived, generation = events.next_after(generation)
        except queue.Empty:
            problems.append(f"edit {edit}: no event within 30 s")
            continue
        status, _, body, _ = client.request(PREVIEW)
        done = time.perf_counter()
        if status != 200 or b"page-1.png" not in body:
            problems.append(f"edit {edit}: preview answered {status}" + ("" if status != 200 else " without pages"))
        to_event.append(arrived - saved)
        to_preview.append(done - saved)
    return to_event, to_preview, problems


def concurrent(calls: list) -> tuple[int, float, list[float]]:
    """Run the calls (each returns (ok, seconds)) at once: how many succeeded, wall time, latencies."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(lambda call: call(), calls))
    return sum(ok for ok, _ in results), time.perf_counter() - started, [seconds for _, seconds in results]


def stop_server(server: subprocess.Popen, seen: set[int]) -> str:
    """Terminate the server and wait; kill it (and leftovers among the pids seen) if it will not go."""
    if server.poll() is not None:
        return f"had exited ({server.returncode})"
    started = time.perf_counter()
    server.terminate()
    try:
        server.wait(timeout=30)
        outcome = f"stopped in {time.perf_counter() - started:.1f} s (exit {server.returncode})"
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        outcome = "did NOT stop within 30 s of SIGTERM: killed"
    time.sleep(0.5)
    left = [pid for pid in sorted(seen) if Path(f"/proc/{pid}").exists() and _ours(pid)]
    for pid in left:
        os.kill(pid, 9)
    if left:
        outcome += f"; {len(left)} descendant(s) outlived it, killed: {left}"
    return outcome


def _ours(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return "handouts" in Path(f"/proc/{pid}/cmdline").read_text() and "\nState:\tZ" not in status
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="render workers (serve --jobs)")
    parser.add_argument("--requests", type=int, default=500, help="requests for the memory run (m)")
    parser.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    parser.add_argument("--cached", type=int, default=200, help="cached PDF GETs for (b)")
    parser.add_argument("--personal", type=int, default=50, help="personalised POSTs for (c)")
    parser.add_argument("--edits", type=int, default=5, help="edits for (e)")
    args = parser.parse_args()
    port = args.port or free_port()
    paths = handout_paths()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="handouts-bench-serve-") as temporary:
        temp = Path(temporary)
        root = copy_project(temp / "project")
        log = temp / "serve.log"
        client = Client(port)
        server = start_server(root, port, args.jobs, log)
        seen: set[int] = set()
        events: Events | None = None
        try:
            ready = wait_ready(server, client, log)
            seen.update(descendants(server.pid))
            load = os.getloadavg()[0]
            print(
                f"handouts serve --jobs {args.jobs} on 127.0.0.1:{port}; {len(paths)} handouts; {os.cpu_count()} cores,"
                f" load average {load:.2f}; GET / answered {ready:.1f} s after start"
            )
            idle = memory(server.pid)

            uncached = [client.pdf(path) for path in paths]
            bad = sum(not ok for ok, _ in uncached)
            print(f"  (a) uncached render, sequential     {latency([s for _, s in uncached])}  failed: {bad}")
            rows.append(("(a) uncached PDF p50 / p95", _p(uncached), f"{bad} failed"))

            cached = [client.pdf(path) for path in itertools.islice(itertools.cycle(paths), args.cached)]
            bad = sum(not ok for ok, _ in cached)
            print(f"  (b) cached PDF                      {latency([s for _, s in cached])}  failed: {bad}")
            rows.append(("(b) cached PDF p50 / p95", _p(cached), f"{bad} failed"))

            csrf, cookie = client.form(PERSONAL)
            personal = [client.personal(PERSONAL, csrf, cookie, f"Patient {n:03d}") for n in range(args.personal)]
            bad = sum(not ok for ok, _ in personal)
            print(f"  (c) personalised copy               {latency([s for _, s in personal])}  failed: {bad}")
            rows.append(("(c) personalised PDF p50 / p95", _p(personal), f"{bad} failed"))

            calls = [lambda n=n: client.personal(PERSONAL, csrf, cookie, f"Concurrent {n:02d}") for n in range(20)]
            ok, wall, seconds = concurrent(calls)
            print(f"  (d) 20 concurrent personalised      {ok}/20 PDFs, wall {wall:.2f} s; {latency(seconds)}")
            rows.append(("(d) 20 concurrent personalised", f"{ok}/20 ok, {wall:.2f} s", "20/20 ok"))

            warm = memory(server.pid)
            seen.update(descendants(server.pid))
            samples = {}
            mixed: list[float] = []
            cycle = itertools.cycle(paths)
            for n in range(1, args.requests + 1):
                if n % 3 == 0:
                    good, spent = client.personal(PERSONAL, csrf, cookie, f"Memory {n:04d}")
                else:
                    good, spent = client.pdf(next(cycle))
                assert good, f"memory run: request {n} failed"
                mixed.append(spent)
                if n in (100, args.requests):
                    seen.update(descendants(server.pid))
                    samples[n] = memory(server.pid)
            print(f"  (m) mixed requests (1/3 personal)   {latency(mixed)}")
            print("  (m) RSS MiB (workers: live count, largest one)")
            for label, sample in [("idle", idle), ("warm", warm)] + [(f"+{n}", m) for n, m in samples.items()]:
                print(sample.line(label))
            last = samples[args.requests]
            changes = [
                ("server RSS", warm.server, last.server),
                ("largest worker RSS", max(warm.workers, default=0.0), max(last.workers, default=0.0)),
                ("zygote + workers RSS", warm.descendants, last.descendants),
            ]
            for what, before, after in changes:
                flat = abs(after - before) <= FLAT_GOAL_MIB
                goal = f"flat, ±{FLAT_GOAL_MIB:.0f} MiB: {'ok' if flat else 'NOT flat'}"
                if what == "zygote + workers RSS":
                    goal = "— (live workers: 1 to --jobs + 1)"
                rows.append(
                    (
                        f"(m) {what}, warm → +{args.requests}",
                        f"{before:.1f} → {after:.1f} MiB ({after - before:+.1f})",
                        goal,
                    )
                )

            ok_preview = client.request(PREVIEW)[0]  # this generation's preview, rendered once before the edits
            events = Events(port)
            topic_file = root / "content" / f"{EDITED_TOPIC}.yaml"
            to_event, to_preview, problems = refresh(client, events, topic_file, args.edits)
            for problem in problems:
                print(f"  (e) problem: {problem}")
            if to_event:
                event_s, preview_s = statistics.median(to_event), statistics.median(to_preview)
                print(
                    f"  (e) save → event                    median {event_s * 1000:7.0f} ms"
                    f"  ({min(to_event) * 1000:.0f}–{max(to_event) * 1000:.0f}, n={len(to_event)})"
                )
                print(
                    f"  (e) save → refreshed preview        median {preview_s * 1000:7.0f} ms"
                    f"  ({min(to_preview) * 1000:.0f}–{max(to_preview) * 1000:.0f}; preview before edits: {ok_preview})"
                )
                rows.append(("(e) save → event (median)", f"{event_s * 1000:.0f} ms", "—"))
                verdict = "ok" if preview_s <= REFRESH_GOAL_S else "MISSED"
                rows.append(("(e) save → refreshed preview", f"{preview_s * 1000:.0f} ms", f"≤ 2 s: {verdict}"))
            else:
                rows.append(("(e) save → refreshed preview", "no events", f"≤ 2 s: MISSED ({len(problems)})"))

            # The edits changed the topic's input key: its 24 handouts are uncached again.
            edited = [path for path in paths if f"/{EDITED_TOPIC}/" in path][:20]
            ok, wall, seconds = concurrent([lambda path=path: client.pdf(path) for path in edited])
            print(f"  (d) 20 concurrent uncached PDFs     {ok}/20 PDFs, wall {wall:.2f} s; {latency(seconds)}")
            rows.append(("(d) 20 concurrent uncached PDFs", f"{ok}/20 ok, {wall:.2f} s", "20/20 ok"))
            seen.update(descendants(server.pid))
        finally:
            if events is not None:
                events.close()
            stopped = stop_server(server, seen)
            if server.returncode not in (0, -15):
                print(f"server log (tail):\n{log.read_text()[-2000:]}")
        print(f"  server {stopped}")
        errors = len(re.findall(r"(?m)^(ERROR|Traceback)", log.read_text()))
        rows.append(("server stop / errors in log", stopped.split(";")[0], f"{errors} error lines"))
    print("\nsummary:")
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    for name, value, goal in rows:
        print(f"  {name:<{width}}  {value:<{value_width}}  {goal}")


def _p(results: list[tuple[bool, float]]) -> str:
    ms = [seconds * 1000 for _, seconds in results]
    return f"{percentile(ms, 0.5):.0f} / {percentile(ms, 0.95):.0f} ms (n={len(ms)})"


if __name__ == "__main__":
    main()
