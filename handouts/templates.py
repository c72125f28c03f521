"""Templates: the Jinja2 environment of a clinic, the names of the templates and
stylesheets, and the HTML a handout or packet becomes.

Jinja2 runs with autoescape and StrictUndefined; content is data, never a
template. The HTML is scanned for what PDF/UA needs (language, alt text,
heading order) before anything is rendered.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import jinja2

from .errors import Diagnostic, RenderError
from .models import Clinic, Project
from .views import Handout, Packet, Personal

Printable = Handout | Packet

BASE_TEMPLATE = "handout.html"
PACKET_TEMPLATE = "packet.html"
BASE_STYLESHEET = "handout.css"
CLINIC_STYLESHEET = "clinic.css"


def environment(project: Project, clinic: Clinic) -> jinja2.Environment:
    """Template search path: the clinic's folder first, then the project's base templates."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(clinic.folder), str(project.templates_dir)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def template_names(project: Project, clinic: Clinic) -> list[str]:
    """Every template on the clinic's search path (its overrides, then the base), by name."""
    names = {
        path.relative_to(folder).as_posix()
        for folder in (clinic.folder, project.templates_dir)
        for path in folder.rglob("*.html")
        if not path.relative_to(folder).as_posix().startswith("clinics/")
    }
    return sorted(names)


def stylesheet_files(project: Project, clinic: Clinic) -> list[Path]:
    """The base stylesheet, then the clinic's ``clinic.css`` when it has one."""
    override = clinic.folder / CLINIC_STYLESHEET
    return [project.templates_dir / BASE_STYLESHEET, *([override] if override.is_file() else [])]


def clinic_css(clinic: Clinic) -> str:
    """The clinic's colours and paper size as CSS (validated by the loader: hex colours, letter|a4)."""
    return (
        f":root {{ --primary: {clinic.primary_color}; --accent: {clinic.accent_color}; }}\n"
        f"@page {{ size: {clinic.paper}; }}\n"
    )


def document_dates(reviewed: dt.date) -> tuple[str, str]:
    """Creation and modification dates: never the clock.

    The creation date is the content's date (its review date); the modification date
    is ``SOURCE_DATE_EPOCH`` when that is set and later, else the creation date again,
    so a file is never modified before it was created.
    """
    created = reviewed.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        if moment.date() > reviewed:
            return created, moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return created, created


def metadata(item: Printable) -> dict[str, str]:
    """What goes into the PDF's document information and XMP: never patient data."""
    created, modified = document_dates(item.reviewed)
    if isinstance(item, Packet):
        titles = ", ".join(handout.title for handout in item.handouts)
        description, keywords = f"Patient information packet: {titles}", f"{titles}, patient education"
    else:
        description, keywords = f"Patient information: {item.title}", f"{item.title}, patient education"
    return {
        "title": item.document_title,
        "author": item.clinic.name,
        "description": description,
        "keywords": f"{keywords}, {item.level.label}",
        "created": created,
        "modified": modified,
    }


def describe(item: Printable) -> str:
    """``topic × clinic × level`` (or the packet's topics): how errors name what failed."""
    if isinstance(item, Packet):
        topics = "+".join(handout.topic.id for handout in item.handouts)
        return f"packet {topics} × {item.clinic.id} × {item.level.id}"
    return f"{item.topic.id} × {item.clinic.id} × {item.level.id}"


def source_file(project: Project, item: Printable) -> str:
    """The file a render problem is reported against: the topic's file (a packet's first topic)."""
    handout = item.handouts[0] if isinstance(item, Packet) else item
    return project.relative(handout.topic.path)


def render_error(project: Project, item: Printable, code: str, message: str, where: tuple[str, int] | None = None):
    """A :class:`RenderError` with one located diagnostic (the template's line when known)."""
    path, line = where or (source_file(project, item), 0)
    diagnostic = Diagnostic(path, line, 0, f"{describe(item)}: {message}", "error", code)
    return RenderError(diagnostics=[diagnostic])


@dataclass(frozen=True)
class Document:
    """A handout or packet as HTML, with what its PDF and its error messages need."""

    html: str
    clinic: Clinic
    title: str
    reviewed: str
    name: str  # ``topic × clinic × level``, for messages
    source: str  # the file problems are reported against

    def error(self, code: str, message: str) -> RenderError:
        """A :class:`RenderError` about this document."""
        return RenderError(diagnostics=[Diagnostic(self.source, 0, 0, f"{self.name}: {message}", "error", code)])


class Templates:
    """Turns handouts and packets of one project into HTML; keeps one environment per clinic."""

    def __init__(self, project: Project):
        self.project = project
        self._environments: dict[str, jinja2.Environment] = {}

    def environment(self, clinic: Clinic) -> jinja2.Environment:
        """The clinic's environment, made on first use."""
        if clinic.id not in self._environments:
            self._environments[clinic.id] = environment(self.project, clinic)
        return self._environments[clinic.id]

    def html(self, item: Printable, personal: Personal | None = None, standalone: bool = False) -> str:
        """A handout or a packet as HTML; ``standalone`` links the stylesheets so a browser shows it styled.

        Raises :class:`RenderError` (HL401 template error, HL404 not accessible).
        """
        clinic = item.clinic
        is_packet = isinstance(item, Packet)
        context = {
            "clinic": clinic,
            "level": item.level,
            "meta": metadata(item),
            "logo_url": clinic.logo.as_uri(),
            "personal": personal,
            "stylesheet_links": [p.as_uri() for p in stylesheet_files(self.project, clinic)] if standalone else [],
            "inline_css": clinic_css(clinic) if standalone else "",
            ("packet" if is_packet else "handout"): item,
        }
        try:
            template = self.environment(clinic).get_template(PACKET_TEMPLATE if is_packet else BASE_TEMPLATE)
            html = template.render(context)
        except jinja2.TemplateSyntaxError as error:
            where = (self.project.relative(Path(error.filename)), error.lineno) if error.filename else None
            raise render_error(self.project, item, "HL401", f"template syntax error: {error.message}", where) from None
        except jinja2.TemplateError as error:
            where = self._template_line(error)
            raise render_error(self.project, item, "HL401", f"template error: {error}", where) from None
        problems = accessibility_problems(html)
        if problems:
            raise render_error(self.project, item, "HL404", "not accessible: " + "; ".join(problems))
        return html

    def document(self, item: Printable, personal: Personal | None = None) -> Document:
        """The HTML of ``item`` (for a PDF: stylesheets are given to WeasyPrint parsed) as a :class:`Document`."""
        return Document(
            self.html(item, personal),
            item.clinic,
            item.document_title,
            item.reviewed.isoformat(),
            describe(item),
            source_file(self.project, item),
        )

    def _template_line(self, error: BaseException) -> tuple[str, int] | None:
        """The template file and line a runtime error happened on (Jinja puts them in the traceback)."""
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename.endswith(".html") and Path(frame.filename).is_file():
                return self.project.relative(Path(frame.filename)), frame.lineno or 0
        return None


class _AccessibilityScan(HTMLParser):
    """Finds what PDF/UA needs and WeasyPrint would only log: alt text, language, heading order."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.language = ""
        self.last_heading = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.language = (attributes.get("lang") or "").strip()
        elif tag == "img" and not (attributes.get("alt") or "").strip():
            self.problems.append(f"image {attributes.get('src', '?')!r} has no alt text")
        elif len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            level = int(tag[1])
            if level > self.last_heading + 1:
                self.problems.append(f"heading <{tag}> follows <h{self.last_heading or 0}>: a heading level is skipped")
            self.last_heading = level


def accessibility_problems(html: str) -> list[str]:
    """Problems that would make the PDF fail PDF/UA: refused before rendering."""
    scan = _AccessibilityScan()
    scan.feed(html)
    scan.close()
    if not scan.language:
        scan.problems.insert(0, "the document has no language (<html lang>)")
    return scan.problems
