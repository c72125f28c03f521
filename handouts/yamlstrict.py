"""Strict YAML reading: every scalar a string, positions kept, surprises refused.

PyYAML's defaults turn ``NO`` into False, ``010`` into 8 and ``2026-11-01`` into a
date, follow aliases and silently keep the last of two duplicate keys. Content
authors are not YAML experts, so we read only plain data and let the schema
(``loading``) convert strings on purpose. Each value remembers its file, line and
column so every later error can point at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigError, Diagnostic
from .inputs import MAX_YAML_DEPTH, read_text


class Located:
    """Mixin giving a value its source position (1-based line and column)."""

    path: str = ""
    line: int = 0
    column: int = 0

    def where(self) -> tuple[str, int, int]:
        """``(file, line, column)``."""
        return self.path, self.line, self.column


class Str(str, Located):
    """A YAML scalar: always a string, with its position."""


class Map(dict, Located):
    """A YAML mapping with its position and the position of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.key_positions: dict[str, tuple[int, int]] = {}


class Seq(list, Located):
    """A YAML sequence with its position."""


YAML_CODE = "HL001"


def _problem(shown_as: str, line: int, column: int, message: str) -> Diagnostic:
    return Diagnostic(shown_as, line, column, message, code=YAML_CODE)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without implicit typing, anchors or aliases, and no deeper than MAX_YAML_DEPTH."""

    yaml_implicit_resolvers: ClassVar[dict] = {}
    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if self.depth >= MAX_YAML_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nested deeper than {MAX_YAML_DEPTH} levels: no handouts file needs that",
                problem_mark=event.start_mark,
            )
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed: write the value out",
                problem_mark=event.start_mark,
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.MarkedYAMLError(
                problem="anchors (&name) are not allowed: write the value out",
                problem_mark=event.start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def read_yaml(path: Path, shown_as: str, limit: int, within: Path | None = None) -> Map:
    """Read one YAML file whose top level must be a mapping.

    ``shown_as`` is the path printed in messages (relative to the project); the file
    must be a regular file of at most ``limit`` bytes (inside ``within``).
    Raises :class:`ConfigError` with every problem found.
    """
    text = read_text(path, shown_as, limit, within)
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as error:  # a control character (NUL, BEL, ...) anywhere in the file
        line = text[: error.position].count("\n") + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        message = f"character U+{error.character:04X} is not allowed in YAML (a control character)"
        raise ConfigError(diagnostics=[_problem(shown_as, line, column, message)]) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or str(error)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ConfigError(diagnostics=[_problem(shown_as, line, column, problem)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise ConfigError(diagnostics=[_problem(shown_as, 1, 1, "file is empty")])
    problems: list[Diagnostic] = []
    value = _convert(node, shown_as, problems)
    if not problems and not isinstance(value, Map):
        problems.append(_problem(shown_as, value.line, value.column, "expected a mapping of keys to values at the top"))
    if problems:
        raise ConfigError(diagnostics=problems)
    return value


def _position(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        return mark.line + 2, 1  # the text starts on the line after the indicator
    return mark.line + 1, mark.column + 1


def _place(value: Located, node: Node, shown_as: str) -> Located:
    value.path = shown_as
    value.line, value.column = _position(node)
    return value


def _convert(node: Node, shown_as: str, problems: list[Diagnostic]):
    line, column = _position(node)
    if node.tag not in _PLAIN_TAGS:
        problems.append(_problem(shown_as, line, column, f"YAML tags such as {node.tag!r} are not allowed"))
    if isinstance(node, ScalarNode):
        return _place(Str(node.value), node, shown_as)
    if isinstance(node, SequenceNode):
        seq = _place(Seq(), node, shown_as)
        seq.extend(_convert(item, shown_as, problems) for item in node.value)
        return seq
    assert isinstance(node, MappingNode)
    mapping = _place(Map(), node, shown_as)
    for key_node, value_node in node.value:
        key_line, key_column = _position(key_node)
        if not isinstance(key_node, ScalarNode):
            problems.append(_problem(shown_as, key_line, key_column, "keys must be plain text"))
            continue
        key = key_node.value
        if key in mapping:
            first_line = mapping.key_positions[key][0]
            problems.append(
                _problem(shown_as, key_line, key_column, f"duplicate key {key!r} (first defined on line {first_line})")
            )
            continue
        mapping.key_positions[key] = (key_line, key_column)
        mapping[key] = _convert(value_node, shown_as, problems)
    return mapping
