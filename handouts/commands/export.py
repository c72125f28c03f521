"""``handouts export fhir``: FHIR JSON for every PDF in the manifest."""

from __future__ import annotations

from pathlib import Path

from ..fhir import export
from ..models import Project


def export_fhir(
    project: Project,
    target: Path | None = None,
    embed: bool = False,
    base_url: str | None = None,
    bundle_type: str = "collection",
) -> list[Path]:
    """Write a DocumentReference per PDF and a Bundle per clinic; returns the files written."""
    return export(project, target, embed, base_url, bundle_type)
