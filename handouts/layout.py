"""Layout lint: what a designer would mark on a printed proof, read from WeasyPrint's laid-out pages.

Rules (codes HL501–HL506, warnings by default):

- a page other than the last filled less than :data:`MIN_FILL` of its text area;
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


def lint(pages: list, min_font_pt: float = 12.0) -> list[LayoutFinding]:
    """Every layout problem of a laid-out document (``document.pages`` of WeasyPrint)."""
    boxes = [page._page_box for page in pages]
    found: list[LayoutFinding] = []
    found += _underfilled(boxes)
    found += _stranded_headings(boxes)
    found += _lonely_list_items(boxes)
    found += _broken_words(boxes)
    found += _small_text(boxes, min_font_pt)
    found += _blurry_images(boxes)
    return found


def _walk(box) -> Iterator:
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _kind(box) -> str:
    return type(box).__name__


def _in_flow(page_box) -> Iterator:
    """Boxes of the page's body (margin boxes, the running header and footer, left out)."""
    for child in page_box.children:
        if _kind(child) != "MarginBox":
            yield from _walk(child)


# ---------------------------------------------------------------- pages and breaks


def _underfilled(page_boxes: list) -> list[LayoutFinding]:
    found = []
    for number, page in enumerate(page_boxes[:-1], start=1):
        top, height = page.content_box_y(), page.height
        bottoms = [
            box.position_y + box.margin_height()
            for box in _in_flow(page)
            if _kind(box) in ("LineBox", "BlockReplacedBox", "InlineReplacedBox")
        ]
        fill = (max(bottoms) - top) / height if bottoms and height else 0
        if fill < MIN_FILL:
            found.append(
                LayoutFinding(
                    "HL501", number, f"page {number} is {fill:.0%} full (under {MIN_FILL:.0%}); text moved on"
                )
            )
    return found


def _last_lines(page_box) -> list:
    return [box for box in _in_flow(page_box) if _kind(box) == "LineBox"]


def _stranded_headings(page_boxes: list) -> list[LayoutFinding]:
    found = []
    for number, page in enumerate(page_boxes[:-1], start=1):
        lines = _last_lines(page)
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


def _lonely_list_items(page_boxes: list) -> list[LayoutFinding]:
    """Lists of three items or more split over pages with a single item on one side."""
    items: dict[int, dict[int, set[int]]] = {}  # list element → page → its item elements there
    for number, page in enumerate(page_boxes, start=1):
        for parent, item in _list_items(page):
            items.setdefault(id(parent), {}).setdefault(number, set()).add(id(item))
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


def _broken_words(page_boxes: list) -> list[LayoutFinding]:
    """Lines that end inside a word (hyphenated by the engine) or inside a web address; once per paragraph."""
    found, reported = [], set()
    originals: dict[int, str] = {}  # this document's paragraph texts, by element (alive while its pages are)
    for number, page in enumerate(page_boxes, start=1):
        previous = None
        for line in (box for box in _walk(page) if _kind(box) == "LineBox"):
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


def _broken(end: str, start: str, original: str) -> str:
    """The word or address broken between a line ending in ``end`` and the next starting with ``start``, or ''."""
    tail, head = (end.split() or [""])[-1], (start.split() or [""])[0]
    if not tail or not head:
        return ""
    if tail.endswith(("\u2010", "\u00ad")):  # a hyphen the engine inserted
        return tail[:-1] + head
    joined = tail + head
    if joined not in original:
        return ""  # the line broke at a space
    return joined if URLISH.search(joined) or not tail.endswith(("-", "–", "—", "/")) else ""


def _small_text(page_boxes: list, min_font_pt: float) -> list[LayoutFinding]:
    """One finding for the whole document: the smallest text, and the pages it is on."""
    small: list[tuple[float, str, int]] = []
    for number, page in enumerate(page_boxes, start=1):
        small += [
            (box.style["font_size"] / CSS_PX_PER_PT, box.text, number)
            for box in _walk(page)
            if _kind(box) == "TextBox"
            and box.text.strip()
            and box.style["font_size"] / CSS_PX_PER_PT < min_font_pt - 0.01
        ]
    if not small:
        return []
    size, text, first = min(small)
    pages = sorted({number for _, _, number in small})
    message = f"{size:.1f} pt text ({text[:40]!r}) on page(s) {', '.join(map(str, pages))}; at least {min_font_pt:g} pt"
    return [LayoutFinding("HL505", first, message)]


def _blurry_images(page_boxes: list) -> list[LayoutFinding]:
    found = []
    for number, page in enumerate(page_boxes, start=1):
        for box in _walk(page):
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
