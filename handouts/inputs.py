"""Reading what users give us: topic and clinic files, templates, stylesheets, images.

Everything here is untrusted. A file is read only if it is a regular file (not a
FIFO or a device, which could block a build forever), inside the folder it is
meant to be in once symlinks are resolved, and within its size limit; text must
be UTF-8. Every refusal is a located :class:`ConfigError` (HL005 unreadable,
HL006 too large), never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, Diagnostic

KIB = 1024


@dataclass(frozen=True)
class Limits:
    """Size limits of the files a project may hold (``limits:`` in handouts.yaml, in KiB)."""

    topic: int = 256 * KIB
    clinic: int = 64 * KIB
    template: int = 128 * KIB
    image: int = 1024 * KIB
    translation: int = 1024 * KIB


PROJECT_FILE_LIMIT = 64 * KIB
# The images a handout may print (a logo, a figure), by file suffix, and how their bytes begin.
IMAGE_MAGIC = {".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",), ".svg": (b"<svg", b"<?xml")}
MAX_YAML_DEPTH = 16


def _problem(shown_as: str, code: str, message: str, line: int = 0) -> ConfigError:
    return ConfigError(diagnostics=[Diagnostic(shown_as, line, 0, message, "error", code)])


def check_path(path: Path, shown_as: str, within: Path | None = None) -> Path:
    """``path`` resolved, if it is a regular file (inside ``within``, when given); else HL005."""
    if "\x00" in str(path):
        raise _problem(shown_as, "HL005", "the file name contains a NUL character")
    try:
        resolved = path.resolve()
        info = os.stat(resolved)
    except FileNotFoundError:
        raise _problem(shown_as, "HL005", "file not found") from None
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        raise _problem(shown_as, "HL005", f"cannot read: {getattr(error, 'strerror', None) or error}") from None
    if within is not None and not resolved.is_relative_to(within.resolve()):
        raise _problem(shown_as, "HL005", f"is a link to a file outside {within.name}/; copy the file in instead")
    if not stat.S_ISREG(info.st_mode):
        raise _problem(shown_as, "HL005", "is not a regular file (a folder, FIFO or device); refused")
    return resolved


def read_bytes(path: Path, shown_as: str, limit: int, within: Path | None = None) -> bytes:
    """The bytes of a regular file no larger than ``limit`` (HL005, HL006)."""
    resolved = check_path(path, shown_as, within)
    try:
        with open(resolved, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise _problem(shown_as, "HL005", f"cannot read: {error.strerror or error}") from None
    if len(data) > limit:
        raise _problem(shown_as, "HL006", f"is larger than its limit of {limit // KIB} KiB (limits: in handouts.yaml)")
    return data


def read_text(path: Path, shown_as: str, limit: int, within: Path | None = None) -> str:
    """The UTF-8 text of a regular file no larger than ``limit``; a bad byte is located by line (HL005)."""
    data = read_bytes(path, shown_as, limit, within)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _problem(shown_as, "HL005", f"is not UTF-8 text (byte 0x{data[error.start]:02x})", line) from None


def looks_like_image(suffix: str, data: bytes) -> bool:
    """Whether ``data`` begins as an image of its suffix (an ``IMAGE_MAGIC`` key) does, by content."""
    return data[:512].lstrip().startswith(IMAGE_MAGIC[suffix.lower()])
