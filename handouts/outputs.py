"""Output folder: atomic writes, the build lock and ``manifest.json``.

Crash safety rests on two rules kept here: a file only ever appears under its
final name by an atomic rename of a complete, fsynced temporary file; and the
manifest is always written the same way, last.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from . import __version__
from .errors import LockedError

MANIFEST = "manifest.json"
LOCK_FILE = ".handouts.lock"
MANIFEST_VERSION = 1
CRASH_VARIABLE = "HANDOUTS_CRASH_AT"


def _crash_point() -> None:
    """Test hook: ``HANDOUTS_CRASH_AT=k`` kills the process at the k-th write point."""
    target = os.environ.get(CRASH_VARIABLE)
    if not target:
        return
    _crash_point.count = getattr(_crash_point, "count", 0) + 1  # type: ignore[attr-defined]
    if _crash_point.count == int(target):  # type: ignore[attr-defined]
        os.kill(os.getpid(), signal.SIGKILL)


@cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either the old file or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            _crash_point()
            handle.flush()
            os.fsync(handle.fileno())
        _crash_point()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    _crash_point()


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_temporaries(output_dir: Path) -> None:
    """Temporary files left by a killed build are never under a final name; remove them."""
    for leftover in output_dir.rglob(".*.tmp"):
        leftover.unlink(missing_ok=True)


@contextmanager
def output_lock(output_dir: Path) -> Iterator[None]:
    """An OS-level lock on the output folder, released by the OS if the holder dies."""
    output_dir.mkdir(parents=True, exist_ok=True)
    lock_path = output_dir / LOCK_FILE
    handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole build
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockedError(f"{output_dir} is locked by {holder}: another build is running there") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"handouts build (pid {os.getpid()})")
        handle.flush()
        yield
    finally:
        handle.close()


# ---------------------------------------------------------------- manifest


@dataclass(frozen=True)
class Entry:
    """One line of ``manifest.json``."""

    clinic: str
    topic: str
    level: str
    language: str
    path: str
    bytes: int
    pages: int
    sha256: str
    input_key: str
    title: str
    reviewed: str
    reading_grade: float | None
    thumbnail: str | None


def read_manifest(output_dir: Path) -> dict[str, Entry]:
    """Entries by path; an unreadable or foreign manifest counts as empty (everything rebuilds)."""
    try:
        data = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
        return {item["path"]: Entry(**item) for item in data["outputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_manifest(output_dir: Path, entries: dict[str, Entry]) -> None:
    """Deterministic: sorted by path, no timestamps."""
    document = {
        "manifest_version": MANIFEST_VERSION,
        "generator": f"handouts {__version__}",
        "outputs": [asdict(entries[path]) for path in sorted(entries)],
    }
    write_atomic(output_dir / MANIFEST, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
