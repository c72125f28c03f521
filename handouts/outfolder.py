"""The output folder: where each handout goes, atomic writes and the build lock.

Crash safety rests on one rule kept here: a file only ever appears under its
final name by an atomic rename of a complete, fsynced temporary file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from .errors import Diagnostic, LockedError, WriteError
from .models import Clinic, Topic

LOCK_FILE = ".handouts.lock"
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


def output_name(topic: Topic, clinic: Clinic, level: str) -> str:
    """``<clinic>/<topic>.<level>.<language>.pdf``: ids only, never patient data."""
    return f"{clinic.id}/{topic.id}.{level}.{topic.language}.pdf"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either the old file or the complete new one.

    Raises :class:`WriteError` (HL407) when the file cannot be written.
    """
    try:
        _write_atomic(path, data)
    except (FileExistsError, NotADirectoryError):
        folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        raise _write_error(path, f"{folder} is not a folder") from None
    except OSError as error:
        raise _write_error(path, str(error.strerror or error)) from None


def _write_error(path: Path, reason: str) -> WriteError:
    return WriteError(diagnostics=[Diagnostic(str(path), 0, 0, f"cannot write: {reason}", "error", "HL407")])


def _write_atomic(path: Path, data: bytes) -> None:
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


def file_sha256(path: Path) -> str | None:
    """The sha256 of a file, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
