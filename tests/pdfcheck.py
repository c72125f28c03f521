"""Read a PDF back (with pypdf, independent of how it was made) and assert what PDF/UA and a careful
portal need from it."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject


@dataclass(frozen=True)
class PdfFacts:
    """What a reader (a person, a portal) would find in one PDF."""

    pages: int
    title: str
    author: str
    language: str
    tagged: bool
    display_doc_title: bool
    embedded_fonts: tuple[str, ...]
    unembedded_fonts: tuple[str, ...]


def read_facts(data: bytes) -> PdfFacts:
    """Pages, metadata, tagging and fonts of a PDF given as bytes."""
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    info = reader.metadata or {}
    mark_info = _get(root.get("/MarkInfo", DictionaryObject()))
    preferences = _get(root.get("/ViewerPreferences", DictionaryObject()))
    embedded, unembedded = _fonts(reader)
    return PdfFacts(
        pages=len(reader.pages),
        title=str(info.get("/Title", "")),
        author=str(info.get("/Author", "")),
        language=str(root.get("/Lang", "")),
        tagged=bool(mark_info.get("/Marked", False)) and "/StructTreeRoot" in root,
        display_doc_title=bool(preferences.get("/DisplayDocTitle", False)),
        embedded_fonts=tuple(sorted(embedded)),
        unembedded_fonts=tuple(sorted(unembedded)),
    )


def _fonts(reader: PdfReader) -> tuple[set[str], set[str]]:
    embedded: set[str] = set()
    unembedded: set[str] = set()
    for page in reader.pages:
        resources = _get(page.get("/Resources", DictionaryObject()))
        fonts = _get(resources.get("/Font", DictionaryObject()))
        for font in fonts.values():
            font = _get(font)
            name = str(font.get("/BaseFont", "?"))
            descriptor = _font_descriptor(font)
            has_file = descriptor is not None and any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            (embedded if has_file else unembedded).add(name.split("+", 1)[-1])
    return embedded, unembedded


def _font_descriptor(font: DictionaryObject) -> DictionaryObject | None:
    if "/FontDescriptor" in font:
        return _get(font["/FontDescriptor"])
    for descendant in _get(font.get("/DescendantFonts", [])):
        descendant = _get(descendant)
        if "/FontDescriptor" in descendant:
            return _get(descendant["/FontDescriptor"])
    return None


def extract_text(data: bytes) -> str:
    """All text of a PDF, page after page."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


FORBIDDEN = ("/JavaScript", "/OpenAction", "/Launch", "/EmbeddedFiles", "/AA")


def _get(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def structure_elements(root: DictionaryObject):
    """Every structure element under the StructTreeRoot, in document order."""
    stack = [_get(root["/K"])]
    while stack:
        node = _get(stack.pop(0))
        if isinstance(node, ArrayObject):
            stack[:0] = list(node)
        elif isinstance(node, DictionaryObject) and "/S" in node:
            yield node
            if "/K" in node:
                stack.insert(0, node["/K"])


def _all_keys(obj, seen: set[int]) -> set[str]:
    """Every dictionary key reachable from ``obj`` (to find forbidden actions anywhere)."""
    keys: set[str] = set()
    todo = [obj]
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            keys.update(item.keys())
            todo.extend(value for key, value in item.items() if key not in ("/Parent", "/P"))
        elif isinstance(item, ArrayObject):
            todo.extend(item)
    return keys


def assert_accessible(data: bytes, language: str = "en") -> list[str]:
    """PDF/UA essentials; returns the heading tags in order (for further checks)."""
    reader = PdfReader(io.BytesIO(data))
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog, "not tagged"
    assert bool(_get(catalog["/MarkInfo"])["/Marked"])
    assert str(catalog["/Lang"]) == language
    assert str(reader.metadata["/Title"]).strip()
    assert bool(_get(catalog["/ViewerPreferences"])["/DisplayDocTitle"])
    headings, figures = [], 0
    for element in structure_elements(_get(catalog["/StructTreeRoot"])):
        tag = str(element["/S"])
        if tag in ("/H1", "/H2", "/H3", "/H4", "/H5", "/H6"):
            headings.append(tag[1:])
        if tag == "/Figure":
            figures += 1
            assert str(element.get("/Alt", "")).strip(), "a Figure without alt text"
    assert figures >= 1, "the logo should be a Figure"
    levels = [int(h[1]) for h in headings]
    assert levels and levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level skipped: {headings}"
    keys = _all_keys(reader.trailer["/Root"], set())
    assert not keys & set(FORBIDDEN), keys & set(FORBIDDEN)
    return headings
