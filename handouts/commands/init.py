"""``handouts init``: a new, working project made from the sample project.

An installed wheel carries the sample project as ``handouts/_starter`` (see
pyproject.toml); a source checkout uses the repository itself, which is a project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import Diagnostic, UsageError, WriteError
from ..loading import PROJECT_FILE

STARTER_TOPIC = "endplate-sclerosis"
STARTER_CLINIC = "riverside-spine"


def starter_root() -> Path:
    """Where the sample project lives for this installation."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_starter", package.parent):
        if (candidate / PROJECT_FILE).is_file() and (candidate / "templates").is_dir():
            return candidate
    raise UsageError("this installation of handouts has no sample project to copy; reinstall the package")


def init_project(target: Path) -> list[Path]:
    """Copy config, one topic, one clinic and the base templates into ``target``; never overwrite."""
    source = starter_root()
    if (target / PROJECT_FILE).exists():
        raise UsageError(f"{target / PROJECT_FILE} already exists; choose an empty folder")
    copies = [
        (source / PROJECT_FILE, target / PROJECT_FILE),
        (source / "content" / f"{STARTER_TOPIC}.yaml", target / "content" / f"{STARTER_TOPIC}.yaml"),
    ]
    assets = source / "content" / STARTER_TOPIC  # the topic's figures
    copies += [
        (path, target / "content" / STARTER_TOPIC / path.name) for path in sorted(assets.glob("*")) if path.is_file()
    ]
    translated = source / "content" / "translations"  # the topic's PO files: its Spanish and Thai
    copies += [
        (path, target / "content" / "translations" / path.parent.name / path.name)
        for path in sorted(translated.glob(f"*/{STARTER_TOPIC}.po"))
    ]
    templates = source / "templates"
    for path in sorted(templates.rglob("*")):
        relative = path.relative_to(templates)
        is_other_clinic = relative.parts[:1] == ("clinics",) and relative.parts[1:2] != (STARTER_CLINIC,)
        if path.is_file() and not is_other_clinic:
            copies.append((path, target / "templates" / relative))
    clashes = [destination for _, destination in copies if destination.exists()]
    if clashes:
        raise UsageError(f"{clashes[0]} already exists; choose an empty folder")
    gitignore = target / ".gitignore"
    written: list[Path] = []
    try:
        for origin, destination in copies:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, destination)
            written.append(destination)
        if not gitignore.exists():
            gitignore.write_text("output/\n", encoding="utf-8")
    except OSError as error:
        for path in written:  # nothing half-made: a project is all there or not at all
            path.unlink(missing_ok=True)
        reason = error.strerror or str(error)
        raise WriteError(
            diagnostics=[Diagnostic(str(target), 0, 0, f"cannot create a project here: {reason}", "error", "HL407")]
        ) from None
    return written
