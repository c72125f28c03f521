"""The output folder: where each handout goes, atomic writes and the build lock.

Crash safety rests on one rule kept here: a file only ever appears under its
final name by an atomic rename of a complete, fsynced temporary file.

An output folder may come from a cache or a shared drive, so what is in it is
untrusted: paths read from it are checked to be ``<clinic>/<name>.pdf|png`` inside
it, with no symbolic link on the way (:func:`inside`); writes refuse folders that
are symbolic links; cleanup removes only temporary files this tool names.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from .errors import Diagnostic, LockedError, WriteError
from .models import Clinic, Topic

LOCK_FILE = ".handouts.lock"
# What every output's path looks like: <clinic>/<topic>.<level>.<language>[.large].pdf (or .png).
OUTPUT_PATH = re.compile(
    r"[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*\.[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*(\.large)?\.(pdf|png)"
)
# Temporary files made by write_atomic: .<final name>.<random>.tmp
TEMPORARY = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]*\.(pdf|png|json)\.[A-Za-z0-9_]{8}\.tmp")
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


def output_name(topic: Topic, clinic: Clinic, level: str, edition: str = "regular") -> str:
    """``<clinic>/<topic>.<level>.<language>.pdf`` (``.large.pdf`` in large print): ids only, never patient data."""
    suffix = "" if edition == "regular" else f".{edition}"
    return f"{clinic.id}/{topic.id}.{level}.{topic.language}{suffix}.pdf"


def inside(output_dir: Path, relative: str) -> Path | None:
    """``output_dir / relative`` if ``relative`` has the shape of an output's path and no symbolic
    link lies on the way (the clinic folder or the file); else None: never follow such a path."""
    if not isinstance(relative, str) or not OUTPUT_PATH.fullmatch(relative):
        return None
    path = output_dir / relative
    if path.parent.is_symlink() or path.is_symlink():
        return None
    return path


def write_atomic(path: Path, data: bytes, root: Path | None = None) -> None:
    """Write ``data`` so that ``path`` is either the old file or the complete new one.

    With ``root``, no folder between ``root`` and ``path`` may be a symbolic link (a
    write never follows one out of the output folder). Raises :class:`WriteError`
    (HL407) when the file cannot be written.
    """
    if root is not None:
        for folder in path.parents:
            if folder == root:
                break
            if folder.is_symlink():
                raise _write_error(path, f"{folder} is a symbolic link; outputs are never written through one")
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
    """Remove temporary files a killed build left (never under a final name): only names
    :func:`write_atomic` makes, in the output folder and two levels of real folders below it."""
    clinics = _real_folders(output_dir)
    for folder in [output_dir, *clinics, *(child for clinic in clinics for child in _real_folders(clinic))]:
        for leftover in _entries(folder):
            if TEMPORARY.fullmatch(leftover.name) and leftover.is_file() and not leftover.is_symlink():
                leftover.unlink(missing_ok=True)


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _real_folders(folder: Path) -> list[Path]:
    return [child for child in _entries(folder) if child.is_dir() and not child.is_symlink()]


@contextmanager
def output_lock(output_dir: Path) -> Iterator[None]:
    """An OS-level lock on the output folder, released by the OS when the holder dies.

    A POSIX record lock (`lockf`), not `flock`: forked render workers do not inherit it, so a
    killed build's orphaned workers, still finishing a page, never keep the folder locked.
    """
    lock_path = output_dir / LOCK_FILE
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise _write_error(lock_path, str(error.strerror or error)) from None
    handle = os.fdopen(descriptor, "r+")
    try:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN):
                raise _write_error(lock_path, str(error.strerror or error)) from None
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
