"""Render workers: where handouts are turned into PDF bytes during a build.

Workers are long-lived: each loads WeasyPrint once and keeps one
:class:`~handouts.render.Renderer` (fonts, parsed stylesheets, image cache) for
all the handouts it is given. Only bytes come back; the build process alone
writes files and the manifest, so crash safety has one place to live.

Locally the workers are a process pool; with ``--scheduler`` they are the
workers of a Dask distributed cluster (``pip install handouts[dask]``).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from weasyprint.urls import FatalURLFetchingError

from .errors import Diagnostic, HandoutsError, UsageError
from .models import Clinic, Job, Project, Topic
from .render import Rendered, Renderer
from .thumbnails import thumbnail
from .views import handout_view


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to make one handout, already loaded and checked."""

    job: Job
    topic: Topic
    clinic: Clinic
    input_key: str
    reading_grade: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one task: the rendered PDF, or the diagnostics of why not."""

    task: Task
    result: Rendered | None
    diagnostics: tuple[Diagnostic, ...] = ()
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class WorkerSettings:
    """What every task of one build shares. ``build_id`` keeps a long-lived (Dask) worker from
    reusing stylesheets parsed for an earlier build, whose files may have changed since."""

    project: Project
    pdf_variant: str
    timeout: int
    thumbnails: bool = False
    build_id: str = field(default_factory=lambda: os.urandom(8).hex())


class HandoutTimeout(BaseException):
    """A handout took longer than the per-handout limit (BaseException: WeasyPrint must not swallow it)."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Stop the work after ``seconds`` (0: no limit). Needs the main thread (SIGALRM)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise HandoutTimeout(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _failed(task: Task, project: Project, code: str, message: str) -> Outcome:
    where = project.relative(task.topic.path)
    return Outcome(task, None, (Diagnostic(where, 0, 0, f"{task.job.name}: {message}", "error", code),))


def render_task(renderer: Renderer, task: Task, timeout: int, thumbnails: bool = False) -> Outcome:
    """Render one task; every failure becomes an Outcome with diagnostics, never an exception."""
    project = renderer.project
    try:
        with time_limit(timeout):
            handout = handout_view(project, task.topic, task.clinic, task.job.level)
            rendered = renderer.rendered(handout)
            return Outcome(task, rendered, (), thumbnail(rendered.data) if thumbnails else None)
    except HandoutsError as error:
        return Outcome(task, None, tuple(error.diagnostics) or _failed(task, project, "HL406", str(error)).diagnostics)
    except HandoutTimeout as error:
        return _failed(task, project, "HL405", str(error))
    except FatalURLFetchingError as error:  # a BaseException in WeasyPrint
        return _failed(task, project, "HL402", str(error))
    except Exception as error:  # a WeasyPrint bug must not stop the other handouts
        return _failed(task, project, "HL406", f"unexpected {type(error).__name__}: {error}")


# ---------------------------------------------------------------- in this process or a pool

# One renderer per worker process, made on first use (a pool worker or a Dask worker).
_renderers: dict[tuple, Renderer] = {}


def _renderer_for(settings: WorkerSettings) -> Renderer:
    key = (settings.build_id, settings.project.root, settings.pdf_variant)
    if key not in _renderers:
        _renderers.clear()
        _renderers[key] = Renderer(settings.project, settings.pdf_variant)
    return _renderers[key]


def work(task: Task, settings: WorkerSettings) -> Outcome:
    """The function workers run: render one task with this worker's warm renderer."""
    return render_task(_renderer_for(settings), task, settings.timeout, settings.thumbnails)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build process handles Ctrl-C


def _pool_work(arguments: tuple[Task, WorkerSettings]) -> Outcome:
    return work(*arguments)


# WeasyPrint's layout (Pango, natively) keeps some 20-70 KB per document; a worker is
# replaced after this many handouts so that memory stays flat however long the build.
HANDOUTS_PER_WORKER = 200


def render_locally(tasks: list[Task], settings: WorkerSettings, jobs: int) -> Iterator[Outcome]:
    """Outcomes as they finish: in this process for a few handouts, else in a pool of ``jobs`` processes."""
    if len(tasks) <= 1 or (jobs <= 1 and len(tasks) <= HANDOUTS_PER_WORKER):
        for task in tasks:
            yield work(task, settings)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = max(1, min(jobs, len(tasks)))
    with context.Pool(workers, _ignore_interrupts, maxtasksperchild=HANDOUTS_PER_WORKER) as pool:
        yield from pool.imap_unordered(_pool_work, [(task, settings) for task in tasks], chunksize=1)


# ---------------------------------------------------------------- on a Dask cluster

SCHEDULER_TIMEOUT = "10s"  # how long to try to reach the scheduler


def render_on_dask(tasks: list[Task], settings: WorkerSettings, address: str) -> Iterator[Outcome]:
    """Send the tasks to a Dask distributed scheduler; outcomes come back as they finish.

    The project folder must be readable at the same path on the workers (a shared
    file system); what comes back is bytes, written here exactly as in a local build.
    The per-handout time limit needs a main thread and does not apply on Dask workers.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'handouts[dask]'") from None
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT)
    except OSError as error:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    with client:
        futures = [client.submit(work, task, settings, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
