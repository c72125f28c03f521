"""Turn the Thai labels of a figure's SVG into outlines (paths), shaped by HarfBuzz.

WeasyPrint lays out SVG <text> one character at a time (Kozea/WeasyPrint#2249), so Thai vowel
and tone marks lose their base letter. The editable figures with text labels live in
docs/figures/<topic>/; this makes the printed copies in content/<topic>/, where each label is
a group of paths with an aria-label holding its text.

Run: python docs/tools/outline_svg_text.py docs/figures/endplate-sclerosis/spine.th.svg \
         content/endplate-sclerosis/spine.th.svg
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import uharfbuzz as hb
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

SVG = "http://www.w3.org/2000/svg"
FONT = Path(__file__).resolve().parents[2] / "templates" / "fonts" / "HandoutsThaiLooped-Regular.ttf"
THAI = re.compile(r"[\u0e00-\u0e7f]")


def _shape(text: str, blob: bytes) -> tuple[list, list]:
    face = hb.Face(blob)
    font = hb.Font(face)
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {})
    return buffer.glyph_infos, buffer.glyph_positions


def _outline(element: ET.Element, font: TTFont, blob: bytes) -> ET.Element:
    text = element.text or ""
    size = float(element.get("font-size", "16"))
    scale = size / font["head"].unitsPerEm
    infos, positions = _shape(text, blob)
    width = sum(position.x_advance for position in positions) * scale
    x, y = float(element.get("x", "0")), float(element.get("y", "0"))
    anchor = element.get("text-anchor", "start")
    x -= width if anchor == "end" else width / 2 if anchor == "middle" else 0
    glyphs, order = font.getGlyphSet(), font.getGlyphOrder()
    pen = SVGPathPen(glyphs)
    cursor = 0.0
    for info, position in zip(infos, positions, strict=True):
        dx = x + (cursor + position.x_offset) * scale
        dy = y - position.y_offset * scale
        glyphs[order[info.codepoint]].draw(TransformPen(pen, (scale, 0, 0, -scale, dx, dy)))
        cursor += position.x_advance
    group = ET.Element(f"{{{SVG}}}g", {"fill": element.get("fill", "#000000"), "aria-label": text})
    ET.SubElement(group, f"{{{SVG}}}path", {"d": pen.getCommands()})
    return group


def main(source: Path, target: Path) -> None:
    ET.register_namespace("", SVG)
    tree = ET.parse(source)
    font, blob = TTFont(FONT), FONT.read_bytes()
    for parent in tree.iter():
        for index, child in enumerate(list(parent)):
            if child.tag == f"{{{SVG}}}text" and THAI.search(child.text or ""):
                parent.remove(child)
                parent.insert(index, _outline(child, font, blob))
    tree.write(target, encoding="unicode", xml_declaration=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
