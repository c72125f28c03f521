"""Rendering for the server: warm worker processes driven by one thread, and a cache of PDFs.

The event loop never renders: it queues a task and awaits its outcome, while a thread
drives :class:`~handouts.workers.Pool` (the same warm, recycled, deadline-guarded workers
as ``build``). Only shared handouts are cached, by input key; a personalised copy is
rendered, returned and forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections import OrderedDict, deque

from ..workers import Outcome, Pool, Task, WorkerSettings

CACHE_BYTES = 64 * 1024 * 1024  # PDFs and page images kept in memory, least recently used dropped first


class RenderService:
    """``jobs`` warm render workers; :meth:`render` is awaited from the event loop."""

    def __init__(self, settings: WorkerSettings, jobs: int, timeout: float):
        self._pool = Pool(settings, jobs, timeout)
        self._queue: deque[Task] = deque()
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        self._thread = threading.Thread(target=self._drive, name="handouts-render", daemon=True)
        self._stopping = False

    def start(self) -> None:
        """Start the workers (forked before any other thread exists), then the thread that drives them."""
        self._pool.start()
        self._thread.start()

    async def render(self, task: Task) -> Outcome:
        """The outcome of ``task``; the key must be unique among tasks in flight."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting[task.key] = (loop, future)
        self._queue.append(task)
        os.write(self._wake_write, b".")
        return await future

    def _drive(self) -> None:
        while not self._stopping:
            try:
                outcomes = self._pool.step(self._queue, also=[self._wake_read])
            except Exception as error:  # never leave a request waiting forever
                outcomes = []
                for key in list(self._waiting):
                    loop, future = self._waiting.pop(key)
                    loop.call_soon_threadsafe(_fail, future, error)
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_read, 4096)
            for outcome in outcomes:
                loop, future = self._waiting.pop(outcome.key)
                loop.call_soon_threadsafe(_resolve, future, outcome)

    def close(self) -> None:
        """Stop the thread and the workers."""
        self._stopping = True
        os.write(self._wake_write, b".")
        self._thread.join(timeout=10)
        self._pool.close(kill=True)
        os.close(self._wake_read)
        os.close(self._wake_write)


def _resolve(future: asyncio.Future, outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)


def _fail(future: asyncio.Future, error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class Cache:
    """Bytes by key, at most :data:`CACHE_BYTES` in all; the least recently used go first."""

    def __init__(self, limit: int = CACHE_BYTES):
        self.limit = limit
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key`` (now the most recently used), or None."""
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
        return data

    def put(self, key: str, data: bytes) -> None:
        """Keep ``data`` under ``key``, dropping the least recently used to stay under the limit."""
        if key in self._items:
            self._size -= len(self._items.pop(key))
        if len(data) > self.limit:
            return
        self._items[key] = data
        self._size += len(data)
        while self._size > self.limit:
            _, dropped = self._items.popitem(last=False)
            self._size -= len(dropped)
