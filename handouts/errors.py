"""User errors: one exception tree, each error carrying located diagnostics, and
the one table that maps them to exit codes (:data:`EXIT_CODES`).

The library raises these and never prints or exits; ``cli`` prints them and
exits with :func:`exit_code`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


class Diagnostic(NamedTuple):
    """One finding, located as precisely as we can: ``file:line:column``.

    A named tuple rather than a dataclass: the command line imports this module
    before anything else, and a tuple costs nothing to define.
    """

    path: str
    line: int = 0
    column: int = 0
    message: str = ""
    severity: str = "error"
    code: str = ""

    def location(self) -> str:
        """``file``, ``file:line`` or ``file:line:column``: as much as is known."""
        parts = [self.path]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def as_dict(self) -> dict[str, str | int]:
        """The JSON shape used by ``check --format json`` and ``build --format json``."""
        return {
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }

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


class NotFound(UsageError):
    """An id that names nothing the project has: a topic, clinic, level, language or edition."""


class ConfigError(HandoutsError):
    """Invalid project, topic or clinic files (YAML, schema, cross-references)."""


class RenderError(HandoutsError):
    """A handout could not be rendered (template error, refused resource, WeasyPrint warning)."""


class GateError(HandoutsError):
    """A handout failed ``handouts check`` (e.g. its text reads above its level)."""


class WriteError(HandoutsError):
    """An output could not be written (disk full, read-only folder, not a folder)."""


class LockedError(HandoutsError):
    """Another build holds the output folder."""


class Failed(HandoutsError):
    """The command ran and already reported what failed (handouts, or check findings)."""


class Interrupted(HandoutsError):
    """The user pressed Ctrl-C; finished work was kept."""


EXIT_CODES: dict[type[BaseException], int] = {
    UsageError: 2,
    ConfigError: 2,
    RenderError: 1,
    GateError: 1,
    WriteError: 1,
    Failed: 1,
    LockedError: 75,
    Interrupted: 130,
    KeyboardInterrupt: 130,
}


def exit_code(error: BaseException) -> int:
    """The exit code for ``error``: the entry of its nearest class in :data:`EXIT_CODES`, else 1."""
    return nearest(EXIT_CODES, error, 1)


def nearest(table: Mapping[type[BaseException], int], error: BaseException, default: int) -> int:
    """The entry of ``table`` for the nearest class of ``error`` (itself, then its bases), else ``default``."""
    return next((table[kind] for kind in type(error).__mro__ if kind in table), default)


def relative_to(path: Path, root: Path) -> str:
    """A path as the user should see it: relative to ``root`` when inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
