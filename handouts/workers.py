"""Render workers: the processes where views become PDF bytes.

Every render (``render``, ``packet``, ``build``, ``serve``) runs in a worker
process, never in the command's own process, so that a handout that takes too
long can be stopped from outside: the parent gives each task a deadline and
kills the worker that misses it (HL405), then starts a fresh one. Workers are
long-lived: each keeps one :class:`~handouts.render.Renderer` (fonts, parsed
stylesheets, image cache) and is replaced after :data:`HANDOUTS_PER_WORKER`
handouts, because WeasyPrint's layout keeps some native memory per document.

Garbage collection is tuned for rendering (measured; see ``bench/bench_build.py``
and docs/contributing.md): a worker freezes (``gc.freeze``) what it inherited from
its parent, and again after its first handout (fonts, stylesheets, images), so no
collection ever walks them; while a document is laid out the collector is off, and
one generation-0 collection afterwards frees that document's cycles. That costs
about 3 % of render time, against 12 % with Python's defaults. Only bytes come
back: the parent alone writes files.

With ``--scheduler`` the work goes to a Dask distributed cluster instead
(``pip install handouts[dask]``); there too each task renders in a worker process
of the Dask worker's own, under the same deadline, so one slow handout is stopped
and reported while the rest go on.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING

from .errors import Diagnostic, HandoutsError, RenderError, UsageError
from .models import Project
from .templates import Document

if TYPE_CHECKING:
    from .layout import Rendered
    from .render import Renderer

# WeasyPrint's layout (Pango, natively) keeps some 20-70 KB per document; a worker is
# replaced after this many handouts so that memory stays flat however long the build.
HANDOUTS_PER_WORKER = 200
SCHEDULER_TIMEOUT = "10s"  # how long to try to reach a Dask scheduler


@dataclass(frozen=True)
class Task:
    """One document to render (its HTML is made by the parent), and the key its outcome comes back under."""

    key: str
    document: Document


@dataclass(frozen=True)
class Outcome:
    """What became of one task (by its key): the rendered PDF, or the diagnostics of why not."""

    key: str
    result: Rendered | None
    diagnostics: tuple[Diagnostic, ...] = ()
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class WorkerSettings:
    """What every task of one run shares. ``run_id`` keeps a long-lived (Dask) worker from
    reusing stylesheets parsed for an earlier run, whose files may have changed since."""

    project: Project
    pdf_variant: str
    thumbnails: bool = False
    run_id: str = field(default_factory=lambda: os.urandom(8).hex())


def _failed(task: Task, code: str, message: str) -> Outcome:
    return Outcome(task.key, None, tuple(task.document.error(code, message).diagnostics))


def render_task(renderer: Renderer, task: Task, thumbnails: bool = False) -> Outcome:
    """Render one task; every failure becomes an Outcome with diagnostics, never an exception."""
    from weasyprint.urls import FatalURLFetchingError

    from .thumbnails import thumbnail

    try:
        rendered = renderer.rendered(task.document)
        return Outcome(task.key, rendered, (), thumbnail(rendered.data) if thumbnails else None)
    except HandoutsError as error:
        if error.diagnostics:
            return Outcome(task.key, None, tuple(error.diagnostics))
        return _failed(task, "HL406", str(error))
    except FatalURLFetchingError as error:  # a BaseException in WeasyPrint
        return _failed(task, "HL402", str(error))
    except Exception as error:  # a WeasyPrint bug must not stop the other handouts
        return _failed(task, "HL406", f"unexpected {type(error).__name__}: {error}")


# One renderer per worker process, made on first use (a pool worker or a Dask worker).
_renderers: dict[tuple, Renderer] = {}


def _renderer_for(settings: WorkerSettings) -> Renderer:
    from .render import Renderer

    key = (settings.run_id, settings.project.root, settings.pdf_variant)
    if key not in _renderers:
        _renderers.clear()
        _renderers[key] = Renderer(settings.project, settings.pdf_variant)
    return _renderers[key]


def work(task: Task, settings: WorkerSettings) -> Outcome:
    """The function workers run: render one task with this worker's warm renderer."""
    return render_task(_renderer_for(settings), task, settings.thumbnails)


# ---------------------------------------------------------------- local worker processes


def _worker_main(connection: Connection, settings: WorkerSettings, inherited: list[Connection]) -> None:
    """A worker process: render tasks as they arrive until told to stop (None) or the pipe closes.

    ``inherited`` are the parent's ends of every worker's pipe, copied by fork: closed at once, so
    that when the parent dies (even by SIGKILL) each worker sees its pipe close and exits.
    """
    for other in inherited:
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    gc.freeze()  # what the parent left us (forked) is never walked again
    _renderer_for(settings).warm_up()  # WeasyPrint, fonts, base CSS: while the parent still plans
    gc.collect()
    gc.freeze()
    warm = False
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        gc.disable()  # one document's objects are collected once, after it, not again and again during it
        try:
            outcome = work(task, settings)
        finally:
            gc.enable()
        connection.send(outcome)
        gc.collect(0)
        if not warm:  # fonts, stylesheets and images are loaded now: keep them out of collections
            gc.collect()
            gc.freeze()
            warm = True


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    done: int = 0
    task: Task | None = None
    deadline: float = 0.0


_UNSET = object()


class _Lazy:
    """Tasks taken one at a time from an iterable: the next one is made (its HTML rendered) only when
    asked whether there is one, which the pool does while the workers are busy."""

    def __init__(self, tasks: Iterable[Task]):
        self._tasks = iter(tasks)
        self._next: object = _UNSET

    def __bool__(self) -> bool:
        if self._next is _UNSET:
            self._next = next(self._tasks, None)
        return self._next is not None

    def popleft(self) -> Task:
        if not self:
            raise IndexError("no more tasks")
        task, self._next = self._next, _UNSET
        assert isinstance(task, Task)
        return task


@contextlib.contextmanager
def _may_start_children() -> Iterator[None]:
    """Let a daemonic process (a Dask worker runs tasks in one) start render workers.

    multiprocessing forbids daemonic processes to have children so that none outlives
    its parent; ours cannot: each exits as soon as its pipe to the parent closes.
    """
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemonic = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemonic is not None:
            config["daemon"] = daemonic


class Pool:
    """Up to ``jobs`` worker processes; each task gets ``timeout`` seconds (0: no limit) before its
    worker is killed. Use as a context manager; :meth:`run` yields outcomes as they finish."""

    def __init__(self, settings: WorkerSettings, jobs: int, timeout: float, per_worker: int = HANDOUTS_PER_WORKER):
        self.settings = settings
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.per_worker = per_worker
        self._context = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []

    def __enter__(self) -> Pool:
        self.start()
        return self

    def start(self) -> None:
        """Start the workers now, so they warm up while the caller still prepares the tasks."""
        while len(self._workers) < self.jobs:
            self._start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self, kill: bool = False) -> None:
        """Stop every worker (politely, then by force; at once with ``kill``)."""
        for worker in self._workers:
            self._stop(worker, kill)
        self._workers.clear()

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        inherited = [parent, *(worker.connection for worker in self._workers)]
        process = self._context.Process(target=_worker_main, args=(child, self.settings, inherited), daemon=True)
        with _may_start_children():
            process.start()
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    def _stop(self, worker: _Worker, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
            worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        self._workers.remove(worker)
        self._stop(worker, kill)

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Outcomes of ``tasks`` as they finish; a task whose worker dies or overruns fails alone."""
        pending = _Lazy(tasks)
        while pending or any(worker.task for worker in self._workers):
            self._hand_out(pending)
            busy = [worker for worker in self._workers if worker.task]
            ready = wait([worker.connection for worker in busy], timeout=self._wait_time(busy))
            finished = [self._collect(w) for w in busy if w.connection in ready]
            finished += [self._expire(w) for w in busy if w.task and self.timeout and time.monotonic() > w.deadline]
            self._hand_out(pending)  # workers go on while the caller writes what came back
            yield from finished

    def _hand_out(self, pending: _Lazy) -> None:
        idle = [worker for worker in self._workers if not worker.task]
        while (idle or len(self._workers) < self.jobs) and pending:
            worker = idle.pop() if idle else self._start()
            worker.task = pending.popleft()
            worker.deadline = time.monotonic() + self.timeout
            worker.connection.send(worker.task)

    def _wait_time(self, busy: list[_Worker]) -> float | None:
        if not self.timeout:
            return None
        return max(0.0, min(worker.deadline for worker in busy) - time.monotonic())

    def _collect(self, worker: _Worker) -> Outcome:
        task, worker.task = worker.task, None
        assert task is not None
        try:
            outcome = worker.connection.recv()
        except (EOFError, OSError):
            self._retire(worker, kill=True)
            return _failed(task, "HL406", "the worker process died while rendering")
        worker.done += 1
        if worker.done >= self.per_worker:
            self._retire(worker)
        return outcome

    def _expire(self, worker: _Worker) -> Outcome:
        task = worker.task
        assert task is not None
        self._retire(worker, kill=True)
        return _failed(task, "HL405", f"took longer than {self.timeout:g} s and was stopped")


def render_one(document: Document, settings: WorkerSettings, timeout: float) -> Rendered:
    """One document, rendered in a worker process; raises :class:`RenderError` when it fails."""
    with Pool(settings, 1, timeout) as pool:
        [outcome] = pool.run([Task("one", document)])
    if outcome.result is None:
        raise RenderError(diagnostics=list(outcome.diagnostics))
    return outcome.result


# ---------------------------------------------------------------- on a Dask cluster


_local = threading.local()


def work_with_deadline(task: Task, settings: WorkerSettings, timeout: float) -> Outcome:
    """What Dask workers run: the task in a render process of this thread's own, killed when it
    overruns ``timeout`` (HL405); the process is kept for the next task of the same run."""
    if not timeout:
        return work(task, settings)
    pool = getattr(_local, "pool", None)
    if pool is None or pool.settings.run_id != settings.run_id or pool.timeout != timeout:
        if pool is not None:
            pool.close()
        pool = _local.pool = Pool(settings, 1, timeout)
    [outcome] = pool.run([task])
    return outcome


class DaskPool:
    """The same interface as :class:`Pool`, on a Dask distributed cluster (``--scheduler ADDRESS``).

    The project folder must be readable at the same path on the workers (a shared file
    system); what comes back is bytes, written by the caller exactly as in a local build.
    Each task has the same deadline as locally (:func:`work_with_deadline`).
    """

    def __init__(self, settings: WorkerSettings, address: str, timeout: float = 0):
        self.settings = settings
        self.address = address
        self.timeout = timeout
        self._client = None

    def __enter__(self) -> DaskPool:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'handouts[dask]'") from None
        try:
            self._client = Client(self.address, timeout=SCHEDULER_TIMEOUT)
        except OSError as error:
            raise UsageError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._client is not None:
            self._client.close()

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Outcomes as the cluster finishes them."""
        from distributed import as_completed

        assert self._client is not None
        futures = [
            self._client.submit(work_with_deadline, task, self.settings, self.timeout, pure=False) for task in tasks
        ]
        for future in as_completed(futures):
            yield future.result()
