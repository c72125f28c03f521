"""Make the Thai face the handouts ship (templates/fonts/HandoutsThaiLooped-*.ttf).

From IBM Plex Sans Thai Looped 1.1.0 (npm @ibm/plex-sans-thai-looped, SIL OFL 1.1), with one
change so that Thai text extracted from a PDF is the text that was written:

HarfBuzz draws SARA AM (U+0E33) as NIKHAHIT + SARA AA, and a PDF maps each glyph to one text, so
ทำ ("do") came out as ทํา at best, and as ทา ("apply") when WeasyPrint's cluster mapping dropped
the NIKHAHIT. Here a NIKHAHIT directly followed by SARA AA is drawn again as the font's own SARA
AM glyph (a ligature in 'ccmp'), which maps to SARA AM. With a tone mark between them (น้ำ) the
two glyphs stay apart, so the tone mark sits between them as it should; that text extracts as
NIKHAHIT, tone, SARA AA (its compatibility decomposition, in drawing order). The family is
renamed, as the OFL requires for a modified font whose name holds a Reserved Font Name ("Plex").

Run: python docs/tools/make_thai_font.py PATH/TO/package/fonts/complete/woff templates/fonts
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import otTables as ot

FAMILY = "Handouts Thai Looped"
SARA_AA, SARA_AM = "uni0E32", "uni0E33"


def _variants(font: TTFont, base: str) -> list[str]:
    return [name for name in font.getGlyphOrder() if name == base or name.startswith(base + ".")]


def _lookup(lookup_type: int, subtables: list) -> ot.Lookup:
    lookup = ot.Lookup()
    lookup.LookupType, lookup.LookupFlag, lookup.SubTable = lookup_type, 0, subtables
    lookup.SubTableCount = len(subtables)
    return lookup


def _add_rules(font: TTFont) -> None:
    """NIKHAHIT (any form) + SARA AA → SARA AM, in every 'ccmp' feature."""
    gsub = font["GSUB"].table
    ligatures = ot.LigatureSubst()
    ligatures.ligatures = {}
    for nikhahit in _variants(font, "uni0E4D"):
        ligature = ot.Ligature()
        ligature.LigGlyph, ligature.Component = SARA_AM, [SARA_AA]
        ligature.CompCount = 2
        ligatures.ligatures[nikhahit] = [ligature]
    lookups = gsub.LookupList.Lookup
    lookups.append(_lookup(4, [ligatures]))
    gsub.LookupList.LookupCount = len(lookups)
    for record in gsub.FeatureList.FeatureRecord:
        if record.FeatureTag == "ccmp":
            record.Feature.LookupListIndex.append(len(lookups) - 1)
            record.Feature.LookupCount = len(record.Feature.LookupListIndex)


def _rename(font: TTFont, style: str) -> None:
    names = {
        1: FAMILY,
        2: style,
        3: f"{FAMILY} {style}; made for handouts",
        4: f"{FAMILY} {style}",
        6: f"{FAMILY.replace(' ', '')}-{style}",
        16: FAMILY,
        17: style,
    }
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names or record.nameID in (18, 21, 22):
            table.removeNames(nameID=record.nameID)
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    table.setName(
        "Modified from IBM Plex Sans Thai Looped (Copyright 2017 IBM Corp., SIL OFL 1.1): NIKHAHIT + SARA AA"
        " drawn as SARA AM so PDF text extraction is right. Not the Reserved Font Name.",
        10,
        3,
        1,
        0x409,
    )


def main(source: Path, target: Path) -> None:
    for style in ("Regular", "Bold"):
        font = TTFont(source / f"IBMPlexSansThaiLooped-{style}.woff")
        font.flavor = None
        _add_rules(font)
        _rename(font, style)
        out = target / f"HandoutsThaiLooped-{style}.ttf"
        font.save(out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
