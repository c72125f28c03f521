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
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING

from .errors import Diagnostic, HandoutsError, RenderError, UsageError
from .models import Project
from .templates import Document

if TYPE_CHECKING:
    from .layout import Rendered
    from .render import Renderer

# WeasyPrint's layout (Pango, natively) keeps some 30 KB per document that no collection frees
# (measured: +3.3 MiB per 100 handouts, with no Python object left behind); a worker is replaced
# after this many handouts, its successor warming up while it renders its last one, so that
# memory stays flat however long the build.
HANDOUTS_PER_WORKER = 50
REAP_SECONDS = 1.0  # how often an idle zygote collects ended workers
SCHEDULER_TIMEOUT = "10s"  # how long to try to reach a Dask scheduler


@dataclass(frozen=True)
class Task:
    """One document to render (its HTML is made by the parent), and the key its outcome comes back under."""

    key: str
    document: Document
    settings: WorkerSettings | None = None  # instead of the pool's (``serve``: files changed since it started)


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
    """The function workers run: render one task with this worker's warm renderer (a fresh one when
    the task brings settings of its own)."""
    settings = task.settings or settings
    return render_task(_renderer_for(settings), task, settings.thumbnails)


# ---------------------------------------------------------------- local worker processes


def _worker_main(connection: Connection, settings: WorkerSettings) -> None:
    """A worker process: render tasks as they arrive until told to stop (None) or the pipe closes
    (the parent died, even by SIGKILL: it held the only other end)."""
    gc.freeze()  # what the zygote left us (forked, warm) is never walked again
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


def _zygote_main(control: Connection, settings: WorkerSettings, inherited: list[Connection]) -> None:
    """The process workers are forked from: started before the parent plans anything and warmed up
    once, so that every worker starts warm and small, however much the parent has grown since.

    It receives the worker end of a pipe (a file descriptor, over ``control``), forks a worker that
    serves it, and answers with the worker's pid. It exits when ``control`` closes, after waiting
    for its workers (so their resource usage counts as the build's)."""
    for other in inherited:
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    gc.freeze()
    warm = False
    while True:
        if not warm and not control.poll(0):  # the first workers are forked at once; later ones warm
            _renderer_for(settings).warm_up()  # WeasyPrint, fonts, base CSS: while the parent plans
            gc.collect()
            gc.freeze()
            warm = True
        if not control.poll(REAP_SECONDS):  # idle: collect the exit status of retired workers
            _reap()
            continue
        try:
            handle = reduction.recv_handle(control)
        except (EOFError, OSError):
            break
        pid = os.fork()
        if pid == 0:
            control.close()
            try:
                _worker_main(Connection(handle), settings)
            finally:
                os._exit(0)
        os.close(handle)
        control.send(pid)
        _reap()
    with contextlib.suppress(ChildProcessError):
        while True:
            os.wait()


def _reap() -> None:
    """Collect the exit status of every worker that has ended (no zombie is left behind)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


@dataclass
class _Worker:
    connection: Connection
    pid: int = 0  # known once the zygote answers
    pidfd: int = -1
    handed: int = 0
    retiring: bool = False  # has been handed its last task
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
    """Let a daemonic process (a Dask worker runs tasks in one) start the zygote.

    multiprocessing forbids daemonic processes to have children so that none outlives
    its parent; ours cannot: the zygote and each worker exit as soon as their pipe to
    the parent closes.
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
    worker is killed. Use as a context manager; :meth:`run` yields outcomes as they finish.

    Workers are forked from a zygote (:func:`_zygote_main`), never from this process, which
    grows as it plans and writes: a worker forked from it would carry all of that."""

    def __init__(self, settings: WorkerSettings, jobs: int, timeout: float, per_worker: int = HANDOUTS_PER_WORKER):
        self.settings = settings
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.per_worker = per_worker
        self._context = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []
        self._zygote: multiprocessing.process.BaseProcess | None = None
        self._control: Connection | None = None
        self._unanswered: list[_Worker] = []  # started; the zygote has not told their pid yet

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
        """Stop every worker (politely, then by force; at once with ``kill``), then the zygote."""
        for worker in self._workers:
            self._stop(worker, kill)
        self._workers.clear()
        if self._zygote is not None:
            assert self._control is not None
            self._control.close()
            if kill:
                self._zygote.kill()
            self._zygote.join(timeout=5)
            if self._zygote.is_alive():
                self._zygote.kill()
                self._zygote.join()
            self._zygote = None

    def _start(self) -> _Worker:
        if self._zygote is None:
            self._control, child = self._context.Pipe()
            self._zygote = self._context.Process(  # started before any worker: it inherits no worker's pipe
                target=_zygote_main, args=(child, self.settings, [self._control]), daemon=True, name="handouts-zygote"
            )
            with _may_start_children():
                self._zygote.start()
            child.close()
        assert self._control is not None
        ours, theirs = self._context.Pipe()
        reduction.send_handle(self._control, theirs.fileno(), self._zygote.pid)
        theirs.close()
        worker = _Worker(ours)
        self._workers.append(worker)
        self._unanswered.append(worker)
        return worker

    def _pidfd(self, worker: _Worker) -> int:
        """The worker's pidfd (waiting for the zygote's answers up to this worker's); -1 if it never came."""
        while worker in self._unanswered:
            answered = self._unanswered.pop(0)
            with contextlib.suppress(EOFError, OSError):
                answered.pid = self._control.recv()  # type: ignore[union-attr]
                answered.pidfd = os.pidfd_open(answered.pid)
        return worker.pidfd

    def _stop(self, worker: _Worker, kill: bool = False) -> None:
        pidfd = self._pidfd(worker)
        if not kill:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        worker.connection.close()
        if pidfd < 0:
            return
        if kill or not wait([pidfd], timeout=5):
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            wait([pidfd])
        os.close(pidfd)

    def _retire(self, worker: _Worker, kill: bool = False) -> None:
        self._workers.remove(worker)
        self._stop(worker, kill)

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Outcomes of ``tasks`` as they finish; a task whose worker dies or overruns fails alone."""
        pending = _Lazy(tasks)
        while pending or self.busy:
            yield from self.step(pending)

    @property
    def busy(self) -> bool:
        """Some worker is rendering."""
        return bool(self._busy())

    def _busy(self) -> list[_Worker]:
        return [worker for worker in self._workers if worker.task]

    def step(self, pending: _Lazy | deque[Task], also: Sequence[int] = ()) -> list[Outcome]:
        """Hand out tasks from ``pending``, wait until one finishes or overruns (or a file descriptor
        of ``also`` is ready), and return what came back; the workers go on meanwhile."""
        self._hand_out(pending)
        busy = self._busy()
        ready = wait([worker.connection for worker in busy] + list(also), timeout=self._wait_time(busy))
        finished = [self._collect(w) for w in busy if w.connection in ready]
        finished += [self._expire(w) for w in busy if w.task and self.timeout and time.monotonic() > w.deadline]
        self._hand_out(pending)  # workers go on while the caller writes what came back
        return finished

    def _hand_out(self, pending: _Lazy | deque[Task]) -> None:
        """Give tasks to idle workers, never more than ``jobs`` at once; a worker handed its last
        task is replaced at once, so its successor is ready when it finishes."""
        while len(self._busy()) < self.jobs and pending:
            idle = [worker for worker in self._workers if not worker.task and not worker.retiring]
            worker = idle[0] if idle else self._start()
            worker.task = pending.popleft()
            worker.deadline = time.monotonic() + self.timeout
            with contextlib.suppress(OSError):  # it died idle: _collect reports the task
                worker.connection.send(worker.task)
            worker.handed += 1
            if worker.handed >= self.per_worker:
                worker.retiring = True
                if pending:
                    self._start()

    def _wait_time(self, busy: list[_Worker]) -> float | None:
        if not self.timeout or not busy:
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
        if worker.retiring:
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
