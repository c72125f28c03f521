"""Markdown subset → safe HTML, and → plain text for readability scoring.

Content authors write a small Markdown subset (paragraphs, lists, bold, italic,
links). Raw HTML is never passed through: it is an error, because a handout
that prints ``<img src=...>`` literally, or fetches it, is worse than no handout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_LINK_SCHEMES = ("https://", "mailto:", "tel:")
_RULES = ["emphasis", "list", "link", "escape", "newline", "html_inline", "html_block"]


@dataclass(frozen=True)
class MarkupIssue:
    """A problem in one Markdown text; ``line_offset`` counts from the text's first line."""

    line_offset: int
    message: str


def _parser() -> MarkdownIt:
    # html is parsed (not passed through) only so that we can refuse it by name.
    return MarkdownIt("zero", {"html": True}).enable(_RULES)


_PARSER = _parser()
# markdown-it leaves a link with a refused scheme (file:, data:, javascript:) as text.
_UNPARSED_LINK = re.compile(r"\]\(\s*([a-zA-Z][a-zA-Z0-9+.-]*:[^)\s]*)")


def _walk(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def find_issues(text: str) -> list[MarkupIssue]:
    """Everything in ``text`` that the safe subset refuses: raw HTML and unsafe links."""
    issues: list[MarkupIssue] = []
    line = 0
    for token in _walk(_PARSER.parse(text)):
        if token.map:
            line = token.map[0]
        if token.type in ("html_inline", "html_block"):
            snippet = token.content.strip().splitlines()[0][:60]
            issues.append(MarkupIssue(line, f"raw HTML is not allowed: {snippet!r}"))
        elif token.type == "link_open":
            issues.extend(_check_href(line, str(token.attrs.get("href", ""))))
        elif token.type == "text":
            for match in _UNPARSED_LINK.finditer(token.content):
                issues.extend(_check_href(line, match.group(1)))
    return issues


def _check_href(line: int, href: str) -> list[MarkupIssue]:
    if href.lower().startswith(ALLOWED_LINK_SCHEMES):
        return []
    return [MarkupIssue(line, f"link {href!r} is not allowed: use https://, mailto: or tel:")]


def to_html(text: str) -> str:
    """Render checked Markdown to HTML. Call :func:`find_issues` first.

    A list item's first paragraph is never wrapped in ``<p>``, so the item's marker and
    its text share the first line whether or not the author left blank lines.
    """
    tokens = _PARSER.parse(text)
    opened: list[bool] = []  # per open list item: is its first paragraph still to come?
    for token in tokens:
        if token.type == "list_item_open":
            opened.append(True)
        elif token.type == "list_item_close":
            opened.pop()
        elif opened and opened[-1] and token.type == "paragraph_open":
            token.hidden = True
        elif opened and opened[-1] and token.type == "paragraph_close":
            token.hidden = True
            opened[-1] = False
    return _PARSER.renderer.render(tokens, _PARSER.options, {})


def inline_html(text: str) -> str:
    """One short text (a red flag, a plan item, a main message) as inline HTML: no paragraph around it."""
    return _PARSER.renderInline(" ".join(text.split()))


@dataclass(frozen=True)
class Block:
    """A paragraph or list item as plain text, with the line it starts on (from the text's first line)."""

    line_offset: int
    text: str


@lru_cache(maxsize=4096)
def to_blocks(text: str) -> tuple[Block, ...]:
    """Plain text blocks as a reader meets them: each paragraph and list item ends a sentence.

    List items rarely end with a full stop; without one, readability formulas would
    glue a whole list into one giant sentence.
    """
    blocks: list[Block] = []
    for token in _PARSER.parse(text):
        if token.type != "inline":
            continue
        plain = "".join(
            child.content if child.type == "text" else " "
            for child in _walk(token.children or [])
            if child.type in ("text", "softbreak", "hardbreak")
        )
        plain = " ".join(plain.split())
        if not plain:
            continue
        if plain[-1] not in ".!?":
            plain += "."
        blocks.append(Block(token.map[0] if token.map else 0, plain))
    return tuple(blocks)


@dataclass(frozen=True)
class ListInfo:
    """One list in a text: the line it starts on (from the text's first line) and its items."""

    line_offset: int
    items: int


def lists(text: str) -> list[ListInfo]:
    """Every list in ``text`` with its number of items (nested lists count on their own)."""
    found: list[ListInfo] = []
    stack: list[list[int]] = []
    for token in _PARSER.parse(text):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            stack.append([token.map[0] if token.map else 0, 0])
        elif token.type == "list_item_open" and stack:
            stack[-1][1] += 1
        elif token.type in ("bullet_list_close", "ordered_list_close") and stack:
            line, items = stack.pop()
            found.append(ListInfo(line, items))
    return sorted(found, key=lambda info: info.line_offset)


_NO_SPACES = re.compile(r"[\u0E00-\u0E7F\u3040-\u30FF\u4E00-\u9FFF]")  # scripts written without spaces


def term_is_used(term: str, text: str) -> bool:
    """Whole-word, case-insensitive; a trailing plural 's' still counts. In a script written without
    spaces between words (Thai), the term anywhere in the text counts."""
    if _NO_SPACES.search(term):
        return term.lower() in text.lower()
    return re.search(rf"\b{re.escape(term)}(?:s|es)?\b", text, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Unit:
    """A paragraph or list item as its translator sees it: the Markdown source on one line."""

    line_offset: int
    text: str


def units(text: str) -> list[Unit]:
    """Each paragraph and list item of ``text``, Markdown kept (bold, links), lines joined."""
    return [
        Unit(token.map[0] if token.map else 0, " ".join(token.content.split()))
        for token in _PARSER.parse(text)
        if token.type == "inline" and token.content.strip()
    ]


def replace_units(text: str, replacements: list[str]) -> str:
    """``text`` with its :func:`units` replaced in order, each on one line after its list marker."""
    lines = text.splitlines()
    spans = [token for token in _PARSER.parse(text) if token.type == "inline" and token.content.strip()]
    if len(spans) != len(replacements):
        raise ValueError(f"{len(spans)} units, {len(replacements)} replacements")
    for token, new in reversed(list(zip(spans, replacements, strict=True))):
        start, end = token.map or (0, 1)
        first = lines[start]
        begins = first.find(token.content.split("\n", 1)[0].strip())
        prefix = first[: max(begins, 0)]
        lines[start:end] = [prefix + " ".join(new.split())]
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")
