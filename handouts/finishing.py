"""Finishing: what WeasyPrint leaves out of a PDF that PDF/UA and PDF/A need, fixed in
the PDF objects just before they are written (WeasyPrint's ``finisher`` hook).

- **Page furniture as Artifacts.** WeasyPrint tags the text of margin boxes (the
  running header, the footer with the clinic's phone, "Page X of Y") but leaves
  their structure elements out of the structure tree (its issue #1836): orphans
  that screen readers still meet in the middle of the text. Here their marked
  content becomes ``/Artifact`` with ``/Type /Pagination`` and ``/Subtype
  /Header`` or ``/Footer`` (ISO 14289-1 7.8), their ParentTree entries are
  dropped and the orphan elements emptied.
- **List items with a body.** Markers sit inside the first line (so they are painted
  in reading order; see handout.css), and WeasyPrint then puts a list item's text
  straight into ``/LI``. Here everything but the ``/Lbl`` moves into an ``/LBody``
  (ISO 14289-1 7.6).
- **Figure bounding boxes in PDF user space.** WeasyPrint writes a figure's
  ``/BBox`` in CSS pixels from the top of the page; PDF wants points from the bottom.
- **Links that print.** Link annotations get the Print flag (ISO 14289-1 7.18.1).
- **Thai text that extracts as written.** WeasyPrint maps each glyph to the text of the cluster
  it was first drawn in, so a glyph first met inside a cluster of several (a tone mark over SARA
  AM) maps to nothing (which PDF/UA forbids), or to the whole cluster, everywhere in the
  document. For the shipped Thai face every glyph's text is set from the font itself: its cmap,
  and the glyphs its single substitutions make (narrow and lowered marks). SARA AM is drawn as
  its own glyph (docs/tools/make_thai_font.py) except under a tone mark, where it extracts as
  NIKHAHIT, tone, SARA AA (its compatibility decomposition, in drawing order).
- **An archival file that says what it is.** A PDF/A-3a file is tagged too; its
  XMP claims PDF/UA-1 and declares the ``pdfuaid`` schema in a ``pdfaExtension``
  block, as ISO 19005-3 6.6.2.3.1 requires for a property outside the predefined
  schemas.

All of it walks Python objects already in memory: no PDF is parsed again.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pydyf

PRINT_FLAG = 4
PX_TO_PT = 0.75
_TEXT_MATRIX = re.compile(rb"^\S+ \S+ \S+ \S+ \S+ (\S+) Tm$")


def finish(document, pdf, archival: bool = False, fonts_dir: Path | None = None) -> None:
    """Apply every fix to ``pdf`` (a pydyf PDF) made from ``document`` (a WeasyPrint Document)."""
    if fonts_dir is not None:
        glyph_texts_from_fonts(pdf, fonts_dir)
    if "StructTreeRoot" in pdf.catalog:
        furniture_as_artifacts(document, pdf)
        list_bodies(pdf)
        figure_boxes_in_user_space(pdf)
    links_print(pdf)
    if "Metadata" in pdf.catalog:
        # XMP stays readable by tools that scan for it; PDF/A checkers also refuse a Filter here.
        _object(pdf, pdf.catalog["Metadata"]).compress = False
    if archival:
        declare_pdf_ua(pdf)


def _object(pdf, reference) -> object:
    """The object a reference (``b"12 0 R"``) names."""
    text = reference.decode() if isinstance(reference, bytes) else str(reference)
    return pdf.objects[int(text.split()[0])]


def _reachable_elements(pdf) -> set[int]:
    """Numbers of the structure elements the structure tree reaches from its root."""
    root = _object(pdf, pdf.catalog["StructTreeRoot"])
    seen: set[int] = set()
    todo = list(root["K"])
    while todo:
        kid = todo.pop()
        if isinstance(kid, int):
            continue  # a marked-content id
        element = _object(pdf, kid)
        if element.number in seen or not isinstance(element, pydyf.Dictionary):
            continue
        seen.add(element.number)
        kids = element.get("K", [])
        todo.extend(kids if isinstance(kids, list) else [kids])
    return seen


def furniture_as_artifacts(document, pdf) -> None:
    """Turn the marked content of elements outside the structure tree into pagination artifacts."""
    reachable = _reachable_elements(pdf)
    root = _object(pdf, pdf.catalog["StructTreeRoot"])
    numbers = _object(pdf, root["ParentTree"])["Nums"]
    pages = [_object(pdf, reference) for reference in pdf.page_references]
    for index in range(0, len(numbers), 2):
        key, parents = numbers[index], numbers[index + 1]
        if not isinstance(parents, list) or key >= len(pages):
            continue  # annotations map to one element each, not to an array
        orphans = {mcid for mcid, parent in enumerate(parents) if _object(pdf, parent).number not in reachable}
        if orphans:
            height = document.pages[key].height
            _mark_artifacts(_object(pdf, pages[key]["Contents"]), orphans, height)
            for mcid in orphans:
                parents[mcid] = "null"
    for item in pdf.objects:
        if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/StructElem" and item.number not in reachable:
            item.clear()  # an orphan: nothing points at it any more


def _mark_artifacts(stream, orphans: set[int], page_height: float) -> None:
    """Rewrite ``/Tag <</MCID n>> BDC`` as ``/Artifact <</Type /Pagination /Subtype /…>> BDC``."""
    commands = stream.stream
    for index, command in enumerate(commands):
        if isinstance(command, pydyf.Dictionary) and command.get("MCID") in orphans:
            subtype = "/Header" if _text_top(commands, index) < page_height / 2 else "/Footer"
            commands[index - 1] = "/Artifact"
            commands[index] = pydyf.Dictionary({"Type": "/Pagination", "Subtype": subtype})


def _text_top(commands: list, start: int) -> float:
    """The y (CSS px from the top of the page) of the first text drawn after ``start``."""
    for command in commands[start : start + 40]:
        if isinstance(command, bytes) and (match := _TEXT_MATRIX.match(command)):
            return float(match.group(1))
    return 0.0


def list_bodies(pdf) -> None:
    """Give every ``/LI`` whose content sits directly in it an ``/LBody`` holding all but its ``/Lbl``."""
    for item in list(pdf.objects):
        if not (isinstance(item, pydyf.Dictionary) and item.get("S") == "/LI"):
            continue
        kids = list(item.get("K", []))
        # Marked-content ids stay where the ParentTree says they are.
        labels = [kid for kid in kids if isinstance(kid, int) or _object(pdf, kid).get("S") == "/Lbl"]
        rest = [kid for kid in kids if kid not in labels]
        bodies = [kid for kid in rest if _object(pdf, kid).get("S") == "/LBody"]
        if not rest or rest == bodies:
            continue
        others = [kid for kid in rest if kid not in bodies]
        if bodies:  # WeasyPrint made a body, but left a block link (a source's address) beside it
            body = _object(pdf, bodies[0])
            body["K"] = pydyf.Array([*body.get("K", []), *others])
        else:
            body = pydyf.Dictionary(
                {"Type": "/StructElem", "S": "/LBody", "K": pydyf.Array(others), "P": item.reference}
            )
            if "Pg" in item:
                body["Pg"] = item["Pg"]
            pdf.add_object(body)
        for kid in others:
            _object(pdf, kid)["P"] = body.reference
        item["K"] = pydyf.Array([*labels, *(bodies[:1] or [body.reference]), *bodies[1:]])


def figure_boxes_in_user_space(pdf) -> None:
    """Figure ``/BBox`` from CSS pixels (origin top left) to points in the page's user space."""
    for item in pdf.objects:
        if not (isinstance(item, pydyf.Dictionary) and item.get("S") == "/Figure" and "A" in item):
            continue
        attributes = item["A"]
        if "BBox" not in attributes or "Pg" not in item:
            continue
        height = float(_object(pdf, item["Pg"])["MediaBox"][3])
        x1, y1, x2, y2 = (float(value) for value in attributes["BBox"])
        attributes["BBox"] = pydyf.Array([x1 * PX_TO_PT, height - y2 * PX_TO_PT, x2 * PX_TO_PT, height - y1 * PX_TO_PT])


def links_print(pdf) -> None:
    """Every annotation prints (the Print flag), so paper and screen say the same."""
    for item in pdf.objects:
        if isinstance(item, pydyf.Dictionary) and item.get("Type") == "/Annot":
            item["F"] = PRINT_FLAG


PDFUA_EXTENSION = b"""<rdf:Description rdf:about="" \
xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Indicates which part of ISO 14289 standard is followed</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
<rdf:Description xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" rdf:about="" pdfuaid:part="1"/>
"""


def declare_pdf_ua(pdf) -> None:
    """Claim PDF/UA-1 in the XMP of an archival file, with the ``pdfuaid`` schema declared."""
    stream = _object(pdf, pdf.catalog["Metadata"])
    content = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in stream.stream)
    stream.stream = [content.replace(b"</rdf:RDF>", PDFUA_EXTENSION + b"</rdf:RDF>", 1)]


# ---------------------------------------------------------------- text of Thai glyphs

THAI_FONTS = "HandoutsThaiLooped-*.ttf"
_BFCHAR = re.compile(rb"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]*)>")


@cache
def thai_glyph_texts(font_file: Path) -> dict[int, str]:
    """Glyph id → the text it draws, from the font: its cmap, then what its single substitutions
    make of those glyphs (narrow and lowered marks)."""
    import io

    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_file.read_bytes()))
    names: dict[str, str] = {}
    for code, name in font.getBestCmap().items():
        names.setdefault(name, chr(code))
    substitutions = []
    for lookup in font["GSUB"].table.LookupList.Lookup:
        for table in lookup.SubTable:
            table = getattr(table, "ExtSubTable", table)
            if getattr(table, "LookupType", lookup.LookupType) == 1:
                substitutions.extend(table.mapping.items())
    changed = True
    while changed:
        changed = False
        for source, made in substitutions:
            if source in names and made not in names:
                names[made] = names[source]
                changed = True
    return {font.getGlyphID(name): text for name, text in names.items()}


@cache
def _thai_font_files(fonts_dir: Path) -> dict[str, Path]:
    """Style ("Regular", "Bold") → the shipped Thai font file: looked up once per worker, not per PDF."""
    return {path.stem.split("-")[-1]: path for path in fonts_dir.glob(THAI_FONTS)}


def glyph_texts_from_fonts(pdf, fonts_dir: Path) -> None:
    """Rewrite the ToUnicode map of every shipped Thai font in ``pdf`` from :func:`thai_glyph_texts`."""
    files = _thai_font_files(fonts_dir)
    if not files:
        return
    for item in pdf.objects:
        if not isinstance(item, pydyf.Dictionary) or item.get("Type") != "/Font" or "ToUnicode" not in item:
            continue
        base = str(item.get("BaseFont", ""))
        if "Handouts-Thai-Looped" not in base:
            continue
        style = "Bold" if base.endswith("-Bold") else "Regular"
        if style in files:
            _rewrite_to_unicode(_object(pdf, item["ToUnicode"]), thai_glyph_texts(files[style]))


def _rewrite_to_unicode(stream, texts: dict[int, str]) -> None:
    def mapped(match: re.Match) -> bytes:
        glyph = int(match.group(1), 16)
        if glyph not in texts:
            return match.group(0)
        return b"<%s> <%s>" % (match.group(1), texts[glyph].encode("utf-16-be").hex().encode())

    stream.stream = [_BFCHAR.sub(mapped, line) if isinstance(line, bytes) else line for line in stream.stream]
