"""``manifest.json``: what a build made, one entry per output, written last.

The manifest never lists a file that is not complete and true: entries are
dropped before their files are rewritten and the manifest itself is written
atomically.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from . import __version__
from .outfolder import write_atomic

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


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
