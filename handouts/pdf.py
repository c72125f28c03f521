"""PDF stage: read finished PDFs back to verify and describe them.

The build records what it made (pages, title) from the bytes themselves, not
from what it meant to make; tests use the same reader.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject


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


def _resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def read_facts(data: bytes) -> PdfFacts:
    """Pages, metadata, tagging and fonts of a PDF given as bytes."""
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    info = reader.metadata or {}
    mark_info = _resolve(root.get("/MarkInfo", DictionaryObject()))
    preferences = _resolve(root.get("/ViewerPreferences", DictionaryObject()))
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
        resources = _resolve(page.get("/Resources", DictionaryObject()))
        fonts = _resolve(resources.get("/Font", DictionaryObject()))
        for font in fonts.values():
            font = _resolve(font)
            name = str(font.get("/BaseFont", "?"))
            descriptor = _font_descriptor(font)
            has_file = descriptor is not None and any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            (embedded if has_file else unembedded).add(name.split("+", 1)[-1])
    return embedded, unembedded


def _font_descriptor(font: DictionaryObject) -> DictionaryObject | None:
    if "/FontDescriptor" in font:
        return _resolve(font["/FontDescriptor"])
    for descendant in _resolve(font.get("/DescendantFonts", [])):
        descendant = _resolve(descendant)
        if "/FontDescriptor" in descendant:
            return _resolve(descendant["/FontDescriptor"])
    return None


def extract_text(data: bytes) -> str:
    """All text of a PDF, page after page."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


THUMBNAIL_WIDTH = 320


def thumbnail(data: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """Page 1 as a PNG ``width`` pixels wide (portals list documents with a preview).

    PDFium (pypdfium2) renders it in-process: no poppler or ghostscript needed.
    """
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        page = document[0]
        bitmap = page.render(scale=width / page.get_width())
        image = bitmap.to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        page.close()
        return buffer.getvalue()
    finally:
        document.close()
