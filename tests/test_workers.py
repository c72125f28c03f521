"""Render workers: the parent enforces each handout's time limit, survives a dying worker,
recycles workers, and keeps the garbage collector off the warm objects."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from handouts import loading, workers
from handouts.build import plan
from handouts.render import Renderer
from handouts.templates import Templates
from handouts.views import handout_view
from handouts.workers import Pool, Task, WorkerSettings


def tasks(project_dir: Path, count: int) -> tuple[WorkerSettings, list[Task]]:
    project = loading.load_project(project_dir)
    the_plan = plan(project, clinics=["riverside-spine"], levels=["easy"], languages=["en"], editions=["regular"])
    templates = Templates(project)
    made = []
    for job in the_plan.jobs[:count]:
        view = handout_view(project, the_plan.topics[job.topic], the_plan.clinics[job.clinic], job.level)
        made.append(Task(job.path, templates.document(view)))
    return WorkerSettings(project, "pdf/ua-1"), made


def test_a_slow_handout_is_stopped_by_the_parent(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Renderer.rendered

    def slow(self, document):
        if document.name.startswith("subchondral"):
            time.sleep(60)  # stuck in a C call would look the same from outside
        return original(self, document)

    monkeypatch.setattr(Renderer, "rendered", slow)
    settings, work = tasks(project_dir, 2)
    started = time.monotonic()
    with Pool(settings, 2, timeout=3) as pool:
        outcomes = {outcome.key: outcome for outcome in pool.run(work)}
    assert time.monotonic() - started < 20  # stopped at its limit, not after 60 s
    stuck = outcomes["riverside-spine/subchondral-sclerosis.easy.en.pdf"]
    assert stuck.result is None and stuck.diagnostics[0].code == "HL405"
    assert "took longer than 3 s and was stopped" in stuck.diagnostics[0].message
    assert outcomes["riverside-spine/endplate-sclerosis.easy.en.pdf"].result is not None


def test_a_dying_worker_fails_its_handout_only(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Renderer.rendered

    def dies(self, document):
        if document.name.startswith("endplate"):
            os._exit(9)  # what a crash in native code looks like
        return original(self, document)

    monkeypatch.setattr(Renderer, "rendered", dies)
    settings, work = tasks(project_dir, 2)
    with Pool(settings, 1, timeout=0) as pool:
        outcomes = {outcome.key: outcome for outcome in pool.run(work)}
    died = outcomes["riverside-spine/endplate-sclerosis.easy.en.pdf"]
    assert died.diagnostics[0].code == "HL406" and "worker process died" in died.diagnostics[0].message
    assert outcomes["riverside-spine/subchondral-sclerosis.easy.en.pdf"].result is not None


def _zombie_children(pid: int, settle: float) -> list[int]:
    """Children of ``pid`` that have ended but were not collected, once ``settle`` seconds allow it."""
    deadline = time.monotonic() + settle
    while True:
        children = [c for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
        zombies = [int(c) for c in children if _state(int(c)) == "Z"]
        if not zombies or time.monotonic() > deadline:
            return zombies
        time.sleep(0.2)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def test_workers_are_recycled(project_dir: Path) -> None:
    """Each worker renders at most ``per_worker`` handouts; its successor is started when it is
    handed its last one, and no more than ``jobs`` handouts are ever rendering at once."""
    settings, work = tasks(project_dir, 2)
    started, most_busy = [], []
    original_start, original_wait = Pool._start, workers.wait

    def start(self):
        worker = original_start(self)
        started.append(worker)
        return worker

    def wait(connections, timeout=None):
        most_busy.append(len(connections))
        return original_wait(connections, timeout)

    pool = Pool(settings, 1, timeout=0, per_worker=1)
    pool._start = start.__get__(pool)
    workers.wait = wait
    try:
        with pool:
            outcomes = list(pool.run(work))
            zombies = _zombie_children(pool._zygote.pid, settle=5.0)
    finally:
        workers.wait = original_wait
    assert zombies == []  # the zygote collects its retired workers even when idle
    assert len(outcomes) == 2 and all(outcome.result for outcome in outcomes)
    assert len({worker.pid for worker in started}) == 2  # one per handout; no spare when nothing is left
    assert max(most_busy) == 1


def test_workers_exit_when_their_parent_is_killed(project_dir: Path) -> None:
    """A build killed with SIGKILL leaves no worker (nor the zygote) behind: each sees its pipe close."""
    import signal
    import subprocess
    import sys

    script = (
        "import os, sys, time\n"
        "from handouts.workers import Pool\n"
        "from tests.test_workers import tasks\n"
        "settings, work = tasks(__import__('pathlib').Path(sys.argv[1]), 2)\n"
        "pool = Pool(settings, 2, timeout=0)\n"
        "pool.start()\n"
        "pids = [pool._zygote.pid] + [pool._pidfd(w) and w.pid for w in pool._workers]\n"
        "print(' '.join(map(str, pids)), flush=True)\n"
        "time.sleep(60)\n"
    )
    repo = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(project_dir)], cwd=repo, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    pids = [int(pid) for pid in process.stdout.readline().split()]
    process.stdout.close()
    assert len(pids) == 3  # the zygote and two workers
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.1)
    alive = [
        pid
        for pid in pids
        if Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    ]
    assert alive == []
