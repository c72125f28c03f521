"""Validated fields: reading YAML values into typed ones, with every problem located.

A :class:`Fields` collects the problems of one file while the loader reads it, so
that all of them are reported at once (an author fixes them in one pass).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable

from . import markup
from .errors import ConfigError, Diagnostic, UsageError
from .models import Position, Text
from .yamlstrict import Located, Map, Seq, Str

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG_RULE = "use lower-case letters, digits and '-' only"
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
WEBSITE = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:[/?#][^\s]*)?$")


class Fields:
    """Collects the problems of one file while its mappings are read."""

    def __init__(self, shown_as: str):
        self.shown_as = shown_as
        self.problems: list[Diagnostic] = []

    def error(self, at: Located | None, message: str, code: str = "HL002") -> None:
        """A problem at a YAML value (or at the file's start)."""
        line, column = (at.line, at.column) if at is not None else (0, 0)
        self.error_at(line, column, message, code)

    def error_at(self, line: int, column: int, message: str, code: str = "HL002") -> None:
        """A problem at a line and column."""
        self.problems.append(Diagnostic(self.shown_as, line, column, message, code=code))

    def error_in_text(self, text: Str, line_offset: int, message: str) -> None:
        """A problem inside a (multi-line) text: the line is exact, the column is not known."""
        self.error_at(text.line + line_offset, 0, message, "HL003")

    def mapping(self, value: object, what: str, allowed: Iterable[str], required: Iterable[str] = ()) -> Map | None:
        """Check ``value`` is a mapping with only ``allowed`` keys and all ``required`` ones."""
        if not isinstance(value, Map):
            self.error(value if isinstance(value, Located) else None, f"{what}: expected a mapping of keys to values")
            return None
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                line, column = value.key_positions[key]
                hint = difflib.get_close_matches(key, allowed, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of: {', '.join(allowed)}"
                self.error_at(line, column, f"{what}: unknown key {key!r}{suggestion}")
        for key in required:
            if key not in value:
                self.error(value, f"{what}: missing required key {key!r}")
        return value

    def text(self, mapping: Map, key: str, what: str, required: bool = True, code: str = "HL002") -> Str | None:
        """A non-empty string value, or None (with an error if it was required)."""
        value = mapping.get(key)
        if value is None:
            return None
        if not isinstance(value, Str):
            self.error(value, f"{what}.{key}: expected text")
            return None
        if not value.strip():
            if required:
                hint = " (an unquoted # starts a YAML comment: put the value in quotes)" if key in _HASH_KEYS else ""
                self.error(value, f"{what}.{key}: must not be empty{hint}", code)
            return None
        return value

    def matching(
        self, mapping: Map, key: str, what: str, pattern: re.Pattern, example: str, code: str = "HL002"
    ) -> str:
        """A text matching ``pattern`` ('' when missing, with an error)."""
        value = self.text(mapping, key, what, code=code)
        if value is not None and not pattern.match(value):
            self.error(value, f"{what}.{key}: {value!r} is not valid; expected something like {example}", code)
        return str(value or "")

    def date(self, mapping: Map, key: str, what: str) -> dt.date | None:
        """An ISO date, or None (with an error when it is not one)."""
        value = self.text(mapping, key, what)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.error(value, f'{what}.{key}: {value!r} is not a date like "2026-11-01"')
            return None

    def markdown(self, value: Str, what: str) -> Text:
        """A Markdown text in the safe subset (HL003 for each refused construct)."""
        for issue in markup.find_issues(value):
            self.error_in_text(value, issue.line_offset, f"{what}: {issue.message}")
        return Text(str(value), position_of(value))

    def raise_if_any(self) -> None:
        """Raise every problem found so far at once."""
        if self.problems:
            raise ConfigError(diagnostics=self.problems)


_HASH_KEYS = {"primary", "accent"}


def position_of(value: Located) -> Position:
    """Where a YAML value came from."""
    return Position(value.path, value.line, value.column)


def key_positions(mapping: Map, shown_as: str, nested: tuple[str, ...] = ()) -> dict[str, Position]:
    """Key positions: top-level keys by name, keys of the ``nested`` mappings as ``outer.inner``."""
    positions = {key: Position(shown_as, *where) for key, where in mapping.key_positions.items()}
    for outer in nested:
        inner = mapping.get(outer)
        if isinstance(inner, Map):
            positions.update({f"{outer}.{key}": Position(shown_as, *w) for key, w in inner.key_positions.items()})
    return positions


def number(check: Fields, mapping: Map, key: str, what: str, low: float, high: float) -> float:
    """A finite number between ``low`` and ``high`` (``low`` when it is missing or wrong, with an error)."""
    value = check.text(mapping, key, what)
    try:
        parsed = float(value) if value is not None else 0.0
    except ValueError:
        parsed = math.nan
    if not math.isfinite(parsed):
        check.error(value, f"{what}.{key}: {value!r} is not a number")
        return low
    if value is not None and not low <= parsed <= high:
        check.error(value, f"{what}.{key}: {parsed:g} is outside {low:g}–{high:g}")
    return parsed


def boolean(check: Fields, mapping: Map, key: str, what: str) -> bool:
    """``true`` or ``false`` (false when missing)."""
    value = check.text(mapping, key, what, required=False)
    if value is None:
        return False
    if value not in ("true", "false"):
        check.error(value, f"{what}.{key}: write true or false, not {value!r}")
    return value == "true"


def did_you_mean(value: str, choices: list[str]) -> str:
    """ "; did you mean 'x'?" for the closest of ``choices``, or the list of them."""
    close = [choice for choice in choices if choice.startswith(value)] or []
    close = close if len(close) == 1 else difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; available: {', '.join(choices) or 'none'}"


def check_id(kind: str, value: str) -> str:
    """Refuse ids that are not safe slugs (they become file names)."""
    if not SLUG.match(value):
        raise UsageError(f"{kind} id {value!r} is not valid: {SLUG_RULE}")
    return value


def texts(check: Fields, value: object, what: str) -> list[Str]:
    """A list of non-empty texts (an error for anything else)."""
    if not isinstance(value, Seq):
        check.error(value if isinstance(value, Located) else None, f"{what}: expected a list")
        return []
    found = []
    for index, item in enumerate(value):
        if isinstance(item, Str) and item.strip():
            found.append(item)
        else:
            check.error(item if isinstance(item, Located) else value, f"{what}[{index}]: expected a non-empty text")
    return found
