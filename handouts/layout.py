"""Layout lint: what a designer would mark on a printed proof, read from WeasyPrint's laid-out pages.

Rules (codes HL501–HL506, warnings by default):

- a page other than the last filled less than :data:`MIN_FILL` of its text area (unless what
  moved on is a picture that would not have fitted in the space left: nothing to fix there);
- a heading as the last thing on a page (its text starts on the next one);
- a list split across pages leaving one item alone on either side;
- a line broken inside a word or a web address (a break after a hyphen in an
  ordinary compound word is fine);
- text smaller than the level's minimum (12 pt; 11 pt at a level with a larger
  ``max_grade``), page furniture included;
- a raster logo or picture printed at under :data:`MIN_PPI` pixels per inch.

It walks boxes only (no WeasyPrint import), in the worker that laid the pages out.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

MIN_FILL = 0.70
MIN_PPI = 150
CSS_PX_PER_PT = 96 / 72
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
URLISH = re.compile(r"[/:.@]|www", re.IGNORECASE)


@dataclass(frozen=True)
class LayoutFinding:
    """One layout problem: its code, the page (1-based) and what is wrong."""

    code: str
    page: int
    message: str


@dataclass(frozen=True)
class Rendered:
    """A finished PDF: its bytes, its page count (from layout), its title and what the lint found.

    Defined here, not in ``render``, so that the process receiving it (unpickling) never imports WeasyPrint."""

    data: bytes
    pages: int
    title: str
    updated: str  # the date the text last changed (ISO), recorded in the manifest
    status: str  # draft | reviewed
    layout: tuple[LayoutFinding, ...] = ()  # what the layout lint found on the pages


def lint(pages: list, min_font_pt: float = 12.0) -> list[LayoutFinding]:
    """Every layout problem of a laid-out document (``document.pages`` of WeasyPrint)."""
    indexed = [_PageIndex(number, page._page_box) for number, page in enumerate(pages, start=1)]
    found: list[LayoutFinding] = []
    found += _underfilled(indexed)
    found += _stranded_headings(indexed)
    found += _lonely_list_items(indexed)
    found += _broken_words(indexed)
    found += _small_text(indexed, min_font_pt)
    found += _blurry_images(indexed)
    return found


def _walk(box) -> Iterator:
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _kind(box) -> str:
    return type(box).__name__


class _PageIndex:
    """One page's boxes, walked once, in document order: what every rule reads."""

    def __init__(self, number: int, page_box) -> None:
        self.number, self.box = number, page_box
        self.flow_lines: list = []  # line boxes of the page's body (no margin boxes: header, footer)
        self.flow_bottoms: list = []  # lines and pictures of the body: where its content ends
        self.lines: list = []  # every line box, margin boxes too
        self.texts: list = []  # every text box with text
        self.replaced: list = []  # every picture
        self._index(page_box, in_margin=False)

    def _index(self, box, in_margin: bool) -> None:
        stack = [(child, in_margin) for child in reversed(box.children)]
        while stack:
            box, margin = stack.pop()
            kind = _kind(box)
            margin = margin or kind == "MarginBox"
            if kind == "LineBox":
                self.lines.append(box)
                if not margin:
                    self.flow_lines.append(box)
                    self.flow_bottoms.append(box)
            elif kind == "TextBox":
                if box.text:
                    self.texts.append(box)
            elif kind in ("BlockReplacedBox", "InlineReplacedBox"):
                self.replaced.append(box)
                if not margin:
                    self.flow_bottoms.append(box)
            stack.extend((child, margin) for child in reversed(getattr(box, "children", ())))


# ---------------------------------------------------------------- pages and breaks


def _picture_moved_on(page: _PageIndex, space_left: float) -> bool:
    """The page opens (after at most a heading) with a picture taller than ``space_left``."""
    if not page.replaced or not page.flow_lines:
        return False
    picture = page.replaced[0]
    bottom = picture.position_y + picture.margin_height()
    lines_before = [line for line in page.flow_lines if line.position_y < picture.position_y]
    caption = [line for line in page.flow_lines if line.position_y >= bottom][:1]  # kept with it
    needed = max([bottom, *(line.position_y + line.margin_height() for line in caption)]) - page.box.content_box_y()
    return len(lines_before) <= 2 and needed > space_left


def _underfilled(pages: list[_PageIndex]) -> list[LayoutFinding]:
    found = []
    for page, following in itertools.pairwise(pages):
        top, height, number = page.box.content_box_y(), page.box.height, page.number
        bottoms = [box.position_y + box.margin_height() for box in page.flow_bottoms]
        fill = (max(bottoms) - top) / height if bottoms and height else 0
        if fill < MIN_FILL and not _picture_moved_on(following, height * (1 - fill)):
            percent = math.floor(fill * 100)  # never "70 % full (under 70 %)"
            message = f"page {number} is {percent}% full (under {MIN_FILL:.0%}); text moved on"
            found.append(LayoutFinding("HL501", number, message))
    return found


def _stranded_headings(pages: list[_PageIndex]) -> list[LayoutFinding]:
    found = []
    for page in pages[:-1]:
        lines, number = page.flow_lines, page.number
        if lines and lines[-1].element_tag in HEADINGS:
            text = " ".join(t.text for t in _walk(lines[-1]) if _kind(t) == "TextBox")
            found.append(LayoutFinding("HL502", number, f"heading {text!r} is the last line of page {number}"))
    return found


def _list_items(box, current=None) -> Iterator[tuple[object, object]]:
    """(list element, item element) for every list item box below ``box``."""
    for child in getattr(box, "children", ()):
        if _kind(child) == "MarginBox":
            continue
        tag = child.element_tag
        if tag in ("ul", "ol") and _kind(child) == "BlockBox":
            yield from _list_items(child, child.element)
        elif tag == "li" and _kind(child) == "BlockBox" and current is not None and child.element is not None:
            yield current, child.element
            yield from _list_items(child, None)
        else:
            yield from _list_items(child, current)


def _lonely_list_items(pages: list[_PageIndex]) -> list[LayoutFinding]:
    """Lists of three items or more split over pages with a single item on one side."""
    items: dict[int, dict[int, set[int]]] = {}  # list element → page → its item elements there
    for page in pages:
        for parent, item in _list_items(page.box):
            items.setdefault(id(parent), {}).setdefault(page.number, set()).add(id(item))
    found = []
    for by_page in items.values():
        total = len(set().union(*by_page.values()))
        if len(by_page) < 2 or total < 3:
            continue
        for number, members in sorted(by_page.items()):
            if len(members) == 1:
                found.append(LayoutFinding("HL503", number, f"a list is split with one item alone on page {number}"))
                break
    return found


# ---------------------------------------------------------------- words, type and pictures


def _broken_words(pages: list[_PageIndex]) -> list[LayoutFinding]:
    """Lines that end inside a word (hyphenated by the engine) or inside a web address; once per paragraph."""
    found, reported = [], set()
    originals: dict[int, str] = {}  # this document's paragraph texts, by element (alive while its pages are)
    for page in pages:
        previous, number = None, page.number
        for line in page.lines:
            texts = [t.text for t in _walk(line) if _kind(t) == "TextBox" and t.text]
            if previous is not None and texts and previous[0] is line.element and previous[1]:
                key = id(line.element)
                if key not in originals:
                    element = line.element  # None for anonymous boxes (margin text)
                    originals[key] = " ".join("".join(element.itertext()).split()) if element is not None else ""
                word = _broken(previous[1][-1], texts[0], originals[key])
                if word and key not in reported:
                    reported.add(key)
                    found.append(LayoutFinding("HL504", number, f"{word!r} is broken over two lines on page {number}"))
            previous = (line.element, texts)
    return found


ZERO_WIDTH_SPACE = "\u200b"


def _broken(end: str, start: str, original: str) -> str:
    """The word or address broken between a line ending in ``end`` and the next starting with ``start``, or ''."""
    if end.endswith(ZERO_WIDTH_SPACE) or start.startswith(ZERO_WIDTH_SPACE):
        return ""  # a break between Thai words (see linebreaks.py)
    tail, head = (end.split() or [""])[-1], (start.split() or [""])[0]
    if not tail or not head:
        return ""
    if tail.endswith(("\u2010", "\u00ad")):  # a hyphen the engine inserted
        return tail[:-1] + head
    joined = tail + head
    if joined not in original:
        return ""  # the line broke at a space
    address_like = URLISH.search(joined.rstrip(".,;:!?)\"'"))  # a full stop after "X-rays" is no address
    return joined if address_like or not tail.endswith(("-", "–", "—", "/")) else ""


def _small_text(pages: list[_PageIndex], min_font_pt: float) -> list[LayoutFinding]:
    """One finding for the whole document: the smallest text, and the pages it is on."""
    small: list[tuple[float, str, int]] = []
    for page in pages:
        small += [
            (box.style["font_size"] / CSS_PX_PER_PT, box.text, page.number)
            for box in page.texts
            if box.style["font_size"] / CSS_PX_PER_PT < min_font_pt - 0.01 and box.text.strip()
        ]
    if not small:
        return []
    size, text, first = min(small)
    pages = sorted({number for _, _, number in small})
    message = f"{size:.1f} pt text ({text[:40]!r}) on page(s) {', '.join(map(str, pages))}; at least {min_font_pt:g} pt"
    return [LayoutFinding("HL505", first, message)]


def _blurry_images(pages: list[_PageIndex]) -> list[LayoutFinding]:
    found = []
    for page in pages:
        number = page.number
        for box in page.replaced:
            image = getattr(box, "replacement", None)
            if image is None or type(image).__name__ != "RasterImage" or not box.width:
                continue
            ppi = image.width / (box.width / 96)
            if ppi < MIN_PPI:
                found.append(
                    LayoutFinding(
                        "HL506",
                        number,
                        f"a picture prints at {ppi:.0f} ppi on page {number}; give at least {MIN_PPI} ppi",
                    )
                )
    return found
