"""``manifest.json``: what a build made, one entry per output, written last.

The manifest never lists a file that is not complete and true: entries are
dropped before their files are rewritten, added only once their files are
written, and the manifest itself is written atomically.

A manifest may come from a cache or a shared drive: an entry whose fields do not
fit, or whose path is not an output's path inside the folder, is reported and
ignored, never followed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import Diagnostic
from .models import EDITIONS
from .outfolder import inside, write_atomic

MANIFEST = "manifest.json"
MANIFEST_VERSION = 3  # 3: an edition per entry (regular | large)


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
    updated: str
    status: str
    reading_grade: float | None
    thumbnail: str | None
    edition: str = "regular"


def read_manifest(output_dir: Path, ignored: list[Diagnostic] | None = None) -> dict[str, Entry]:
    """Entries by path; an unreadable or foreign manifest counts as empty (everything rebuilds).
    Entries that are not sound are left out, each reported into ``ignored`` (HL408)."""
    try:
        path = output_dir / MANIFEST
        if path.is_symlink():
            raise ValueError("a symbolic link")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("manifest_version") != MANIFEST_VERSION:
            return {}  # another version's manifest: everything rebuilds
        items = data["outputs"]
        if not isinstance(items, list):
            raise TypeError("outputs is not a list")
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    entries = {}
    for index, item in enumerate(items):
        entry, problem = _entry(output_dir, item)
        if entry is None:
            if ignored is not None:
                message = f"entry {index + 1} ignored: {problem}"
                ignored.append(Diagnostic(str(path), 0, 0, message, "warning", "HL408"))
        else:
            entries[entry.path] = entry
    return entries


TYPES = {"bytes": int, "pages": int, "reading_grade": (int, float, type(None)), "thumbnail": (str, type(None))}


def _entry(output_dir: Path, item: object) -> tuple[Entry | None, str]:
    """The entry ``item`` describes, or None and why it is not sound."""
    if not isinstance(item, dict) or set(item) != set(Entry.__dataclass_fields__):
        return None, "its fields are not those of a manifest entry"
    for name, value in item.items():
        if not isinstance(value, TYPES.get(name, str)) or isinstance(value, bool):
            return None, f"{name!r} has the wrong type"
    entry = Entry(**item)
    if inside(output_dir, entry.path) is None or not entry.path.endswith(".pdf"):
        return None, f"path {entry.path!r} is not an output's path inside the output folder"
    suffix = "" if entry.edition == "regular" else f".{entry.edition}"
    if entry.edition not in EDITIONS or entry.path != (
        f"{entry.clinic}/{entry.topic}.{entry.level}.{entry.language}{suffix}.pdf"
    ):
        return None, f"path {entry.path!r} does not match its clinic, topic, level, language and edition"
    if entry.thumbnail not in (None, entry.path[: -len(".pdf")] + ".png") or (
        entry.thumbnail and inside(output_dir, entry.thumbnail) is None
    ):
        return None, f"thumbnail {entry.thumbnail!r} is not the thumbnail of {entry.path!r}"
    return entry, ""


def write_manifest(output_dir: Path, entries: dict[str, Entry]) -> None:
    """Deterministic: sorted by path, no timestamps."""
    document = {
        "manifest_version": MANIFEST_VERSION,
        "generator": f"handouts {__version__}",
        "outputs": [dict(vars(entries[path])) for path in sorted(entries)],
    }
    write_atomic(output_dir / MANIFEST, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
