"""User errors: one base class, each carrying located diagnostics.

The CLI maps these classes to exit codes in one place (``cli.EXIT_CODES``); the
library raises them and never prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding, located as precisely as we can: ``file:line:column``."""

    path: str
    line: int = 0
    column: int = 0
    message: str = ""
    severity: str = "error"
    code: str = ""

    def location(self) -> str:
        parts = [self.path]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"{self.location()}: {self.severity}{code}: {self.message}"


class HandoutsError(Exception):
    """Base class of every error caused by the user's input, options or files."""

    def __init__(self, message: str = "", diagnostics: list[Diagnostic] | None = None):
        self.diagnostics = list(diagnostics or [])
        if not message:
            message = "\n".join(str(d) for d in self.diagnostics)
        super().__init__(message)


class UsageError(HandoutsError):
    """Bad command-line usage: an unknown topic, clinic or level, an unsafe id."""


class ConfigError(HandoutsError):
    """Invalid project, topic or clinic files (YAML, schema, cross-references)."""


class RenderError(HandoutsError):
    """A handout could not be rendered (template error, refused resource, WeasyPrint warning)."""


class LockedError(HandoutsError):
    """Another build holds the output folder."""


def relative_to(path: Path, root: Path) -> str:
    """A path as the user should see it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


class GateError(HandoutsError):
    """A handout failed ``handouts check`` (e.g. its text reads above its level); see README "The gate"."""
