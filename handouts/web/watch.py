"""Live preview: watch the project's files and tell every open preview page when they change.

``watchfiles`` (Rust ``notify``) watches handouts.yaml, the content folder (topics,
translations, figures) and the templates folder (clinics too). Each change bumps
:attr:`Changes.generation`; pages listen on ``/events`` (server-sent events) and
fetch their new content.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

DEBOUNCE_MS = 150  # changes closer together than this are one change (an editor's save is several writes)
HEARTBEAT_SECONDS = 15.0  # a comment line now and then, so proxies and browsers keep the stream open


class Changes:
    """A counter of file changes, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.generation = 0
        self._changed = asyncio.Event()

    def bump(self) -> None:
        """Record a change and wake everyone waiting."""
        self.generation += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def next_change(self, after: int, timeout: float) -> int:
        """The generation once it is past ``after`` (or as it is after ``timeout`` seconds)."""
        while self.generation <= after:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), timeout)
            except TimeoutError:
                break
        return self.generation


def watched(root: Path, content_dir: Path, templates_dir: Path) -> list[Path]:
    """What to watch: handouts.yaml, the content folder and the templates folder (those that exist)."""
    return [path for path in (root / "handouts.yaml", content_dir, templates_dir) if path.exists()]


async def watch(paths: list[Path], changes: Changes, stop: asyncio.Event) -> None:
    """Bump ``changes`` whenever a file under ``paths`` is written, created or removed, until ``stop``."""
    from watchfiles import awatch

    with contextlib.suppress(asyncio.CancelledError):
        async for _ in awatch(*paths, debounce=DEBOUNCE_MS, step=50, stop_event=stop, recursive=True):
            changes.bump()


async def events(changes: Changes, since: int, disconnected) -> AsyncIterator[str]:
    """A server-sent event stream: ``data: <generation>`` on every change, a comment as heartbeat."""
    seen = since
    yield f"retry: 1000\ndata: {changes.generation}\n\n"
    while not await disconnected():
        generation = await changes.next_change(seen, HEARTBEAT_SECONDS)
        if generation > seen:
            seen = generation
            yield f"data: {generation}\n\n"
        else:
            yield ": still here\n\n"
