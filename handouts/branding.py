"""Branding checks: what a clinic folder prints with, checked before anything is rendered.

Text colours against their backgrounds (the CSS variables the base templates use,
and colours a clinic's ``clinic.css`` sets directly), a logo that decodes, and
characters the shipped fonts can print: a character no font in ``templates/fonts``
(or the clinic's folder) has would print as an empty box, or in whatever font the
machine happens to have.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urljoin

from . import templates
from .errors import ConfigError, Diagnostic
from .inputs import read_bytes, read_text
from .models import Clinic, Position, Project

MIN_CONTRAST = 4.5
FONT_SUFFIXES = (".ttf", ".otf")
SVG_ROOT = "{http://www.w3.org/2000/svg}svg"
CSS_IMPORT = re.compile(r"@import\s+['\"]([^'\"]+)")

# Text colour × background pairs the base templates print (CSS custom properties of
# handout.css, possibly redefined by a clinic's clinic.css; "white" is the page).
TEXT_ON_BACKGROUND = (
    ("primary", "white"),
    ("primary", "tint"),
    ("primary", "help-tint"),
    ("ink", "white"),
    ("ink", "tint"),
    ("ink", "help-tint"),
    ("muted", "white"),
)
CSS_VARIABLE = re.compile(r"--([a-z][a-z0-9-]*)\s*:\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b")


def _finding(position: Position, code: str, message: str) -> Diagnostic:
    return Diagnostic(position.path, position.line, position.column, message, "error", code)


# ---------------------------------------------------------------- colour


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of a #rgb or #rrggbb colour."""
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _stylesheet_text(project: Project, path: Path) -> str:
    """A stylesheet's text ('' when there is none; unreadable ones are reported by the renderer's checks)."""
    if not path.is_file():
        return ""
    return read_text(path, project.relative(path), project.limits.template)


def clinic_stylesheet(project: Project, clinic: Clinic) -> str:
    """The clinic's ``clinic.css`` ('' when it has none); a located ConfigError when it cannot be read."""
    return _stylesheet_text(project, clinic.folder / templates.CLINIC_STYLESHEET)


def clinic_palette(project: Project, clinic: Clinic, css: str) -> dict[str, str]:
    """Colours the templates print with: base CSS variables, then the clinic's (``css``), then its YAML colours."""
    palette = {"white": "#ffffff"}
    palette.update(CSS_VARIABLE.findall(_stylesheet_text(project, project.templates_dir / templates.BASE_STYLESHEET)))
    palette.update(CSS_VARIABLE.findall(css))
    palette.update(primary=clinic.primary_color, accent=clinic.accent_color)
    return palette


def palette_findings(project: Project, clinic: Clinic, palette: dict[str, str]) -> list[Diagnostic]:
    """Every text colour × background pair of the base templates below WCAG AA (HL301)."""
    findings = []
    shown_as = project.relative(clinic.folder / "clinic.yaml")
    for foreground, background in TEXT_ON_BACKGROUND:
        if foreground not in palette or background not in palette:
            continue
        ratio = contrast_ratio(palette[foreground], palette[background])
        if ratio < MIN_CONTRAST:
            position = clinic.positions.get(f"colors.{foreground}", clinic.positions.get("colors", Position(shown_as)))
            message = (
                f"{foreground} {palette[foreground]} on {background} {palette[background]} has contrast"
                f" {ratio:.2f}:1; text needs at least {MIN_CONTRAST}:1"
            )
            findings.append(_finding(position, "HL301", message))
    return findings


def _hex(color) -> str | None:
    """A tinycss2 colour as #rrggbb over the white page (None for ``currentcolor``)."""
    if color is None or isinstance(color, str):
        return None
    red, green, blue, alpha = color
    return "#" + "".join(f"{round((c * alpha + (1 - alpha)) * 255):02x}" for c in (red, green, blue))


def _declared_colors(css: str) -> Iterator[tuple[int, str | None, str | None]]:
    """(line, text colour, background colour) of each rule of ``css`` that sets a colour directly."""
    import tinycss2
    import tinycss2.color3

    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue
        colors: dict[str, str | None] = {}
        for declaration in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
            if declaration.type != "declaration":
                continue
            name = declaration.lower_name
            if name in ("color", "background-color", "background"):
                tokens = [t for t in declaration.value if t.type not in ("whitespace", "comment")]
                parsed = next(
                    (_hex(tinycss2.color3.parse_color(t)) for t in tokens if tinycss2.color3.parse_color(t)), None
                )
                if parsed:
                    colors["text" if name == "color" else "background"] = parsed
        if colors:
            yield rule.source_line, colors.get("text"), colors.get("background")


def stylesheet_findings(project: Project, clinic: Clinic, palette: dict[str, str], css: str) -> list[Diagnostic]:
    """Colours ``clinic.css`` (``css``) sets directly, against the background they print on (HL301, by line)."""
    path = clinic.folder / templates.CLINIC_STYLESHEET
    findings = []
    for line, text, background in _declared_colors(css):
        pairs = [(text, background or palette["white"])] if text else []
        if background and not text:
            pairs = [(palette.get("ink", "#000000"), background), (palette["primary"], background)]
        for foreground, ground in pairs:
            ratio = contrast_ratio(foreground, ground)
            if ratio < MIN_CONTRAST:
                message = (
                    f"clinic.css sets text {foreground} on {ground}: contrast {ratio:.2f}:1;"
                    f" text needs at least {MIN_CONTRAST}:1"
                )
                findings.append(_finding(Position(project.relative(path), line), "HL301", message))
    return findings


def stylesheet_resource_findings(project: Project, clinic: Clinic, css: str) -> list[Diagnostic]:
    """Files ``clinic.css`` (``css``) asks for (``url(...)``, ``@import``) that the clinic's handouts may not
    read (HL402)."""
    path = clinic.folder / templates.CLINIC_STYLESHEET
    confinement = templates.Confinement(project, clinic)
    findings = []
    for number, line in enumerate(css.splitlines(), start=1):
        for url in [*templates.CSS_URL.findall(line), *CSS_IMPORT.findall(line)]:
            try:
                confinement.read(urljoin(path.as_uri(), url.strip()))
            except ConfigError as error:
                findings.append(
                    _finding(Position(project.relative(path), number), "HL402", error.diagnostics[0].message)
                )
    return findings


# ---------------------------------------------------------------- logo


def logo_findings(project: Project, clinic: Clinic) -> list[Diagnostic]:
    """The logo decodes as the image it claims to be (an SVG that parses, a PNG or JPEG that loads)."""
    shown_as = project.relative(clinic.logo)
    try:
        data = read_bytes(clinic.logo, shown_as, project.limits.image, within=clinic.folder)
    except ConfigError as error:
        return list(error.diagnostics)
    problem = _svg_problem(data) if clinic.logo.suffix.lower() == ".svg" else _raster_problem(data)
    if problem:
        position = clinic.positions.get("logo", Position(shown_as))
        return [_finding(position, "HL010", f"logo {shown_as} does not render: {problem}")]
    return []


def _svg_problem(data: bytes) -> str:
    if b"<!ENTITY" in data or b"<!DOCTYPE" in data:
        return "an SVG with a DOCTYPE or entities (refused: they can expand without bound)"
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        return f"not well-formed XML ({error})"
    if root.tag != SVG_ROOT:
        return f"the root element is {root.tag!r}, not an SVG <svg> element"
    if not root.get("viewBox") and not (root.get("width") and root.get("height")):
        return "the <svg> element has neither a viewBox nor a width and height"
    return ""


def _raster_problem(data: bytes) -> str:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as error:
        return str(error) or type(error).__name__
    return ""


# ---------------------------------------------------------------- fonts


def font_files(project: Project, clinic: Clinic) -> tuple[Path, ...]:
    """The fonts a clinic's handouts may print with: ``templates/fonts`` and any in the clinic's folder."""
    folders = (project.templates_dir / "fonts", clinic.folder)
    return tuple(sorted(p for folder in folders for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES))


@functools.lru_cache(maxsize=32)
def printable_characters(fonts: tuple[Path, ...]) -> frozenset[int]:
    """Every code point one of ``fonts`` has a glyph for."""
    from fontTools.ttLib import TTFont, TTLibError

    covered: set[int] = set()
    for path in fonts:
        try:
            with TTFont(path, lazy=True) as font:
                covered.update(font.getBestCmap() or {})
        except (OSError, TTLibError):
            continue
    return frozenset(covered)


def _needs_glyph(character: str) -> bool:
    return not character.isspace() and ord(character) >= 0x20 and character not in "\u00ad\u200b\u200c\u200d\ufeff"


@functools.lru_cache(maxsize=1024)
def _characters(text: str) -> frozenset[str]:
    return frozenset(character for character in text if _needs_glyph(character))


def glyph_findings(project: Project, clinic: Clinic, texts: Iterable[tuple[Path, str]]) -> list[Diagnostic]:
    """A located error (HL305) for the first place each character that no shipped font has appears."""
    covered = printable_characters(font_files(project, clinic))
    findings, seen = [], set()
    for path, text in texts:
        for character in sorted(c for c in _characters(text) - seen if ord(c) not in covered):
            seen.add(character)
            line = text.count("\n", 0, text.index(character)) + 1
            message = (
                f"U+{ord(character):04X} {character!r} is in no shipped font (templates/fonts or the clinic's"
                f" folder): it would print as an empty box; add a font that has it"
            )
            findings.append(_finding(Position(project.relative(path), line), "HL305", message))
    return findings
