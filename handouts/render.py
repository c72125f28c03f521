"""Render stage: Handout view → HTML (Jinja2) → PDF bytes (WeasyPrint).

Jinja2 runs with autoescape and StrictUndefined; content is data, never a
template. WeasyPrint may read only regular files inside the project (no network,
no ``file:///etc/passwd``), and any warning it logs fails the handout: a PDF
silently missing its logo or font is worse than no PDF.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .errors import RenderError
from .models import Clinic, Project
from .resolve import Handout, Packet, Personal

Printable = Handout | Packet

BASE_TEMPLATE = "handout.html"
PACKET_TEMPLATE = "packet.html"
BASE_STYLESHEET = "handout.css"
CLINIC_STYLESHEET = "clinic.css"
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3a", "plain")
DEFAULT_VARIANT = "pdf/ua-1"
ARCHIVAL_VARIANTS = ("pdf/a-3a",)


class RefusedResource(FatalURLFetchingError):
    """A template or stylesheet asked for something outside the project.

    Derives (through WeasyPrint's class) from BaseException so that WeasyPrint
    stops at once instead of logging and printing the page without it.
    """


class ProjectFetcher(URLFetcher):
    """Serves regular files under the project root; refuses everything else."""

    def __init__(self, root: Path):
        super().__init__(allowed_protocols=("file",))
        self._root = root.resolve()

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedResource(f"refused to fetch {url!r}: only files inside the project may be used")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            raise RefusedResource(f"refused to fetch {url!r}: not a file inside the project")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


# Notices about which engine WeasyPrint uses, not about the document: the PDF is complete.
HARMLESS_NOTICES = ("instead of HarfBuzz-Subset",)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not any(notice in message for notice in HARMLESS_NOTICES):
            self.messages.append(message)


@contextmanager
def _weasyprint_warnings_fail(what: str) -> Iterator[None]:
    """Turn every WeasyPrint warning or error log into a RenderError."""
    logger = logging.getLogger("weasyprint")
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield
    except RefusedResource as error:
        raise RenderError(f"{what}: {error}") from None
    finally:
        logger.removeHandler(collector)
    if collector.messages:
        raise RenderError(f"{what}: WeasyPrint reported: " + "; ".join(dict.fromkeys(collector.messages)))


def document_dates(reviewed: dt.date) -> tuple[str, str]:
    """Creation and modification dates: the review date, or SOURCE_DATE_EPOCH; never the clock."""
    created = reviewed.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        modified = dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return created, modified
    return created, created


def template_environment(project: Project, clinic: Clinic) -> jinja2.Environment:
    """Template search path: the clinic's folder first, then the project's base templates."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(clinic.folder), str(project.templates_dir)]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Rendered:
    data: bytes
    pages: int
    title: str


@dataclass
class Renderer:
    """Renders handouts of one project; keeps fonts, stylesheets and images warm between calls."""

    project: Project
    pdf_variant: str = DEFAULT_VARIANT
    _fonts: FontConfiguration = field(default_factory=FontConfiguration, init=False, repr=False)
    _environments: dict[str, jinja2.Environment] = field(default_factory=dict, init=False, repr=False)
    _stylesheets: dict[str, list[weasyprint.CSS]] = field(default_factory=dict, init=False, repr=False)
    _base_sheet: weasyprint.CSS | None = field(default=None, init=False, repr=False)
    _image_cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.pdf_variant not in PDF_VARIANTS:
            raise RenderError(f"unknown PDF variant {self.pdf_variant!r}; choose one of: {', '.join(PDF_VARIANTS)}")
        self._fetcher = ProjectFetcher(self.project.root)

    # ------------------------------------------------------------ HTML

    def environment(self, clinic: Clinic) -> jinja2.Environment:
        if clinic.id not in self._environments:
            self._environments[clinic.id] = template_environment(self.project, clinic)
        return self._environments[clinic.id]

    def html(self, item: Printable, standalone: bool = False, personal: Personal | None = None) -> str:
        """A handout or a packet as HTML; ``standalone`` links the stylesheets so a browser shows it styled.

        For PDFs the stylesheets are passed to WeasyPrint already parsed instead.
        """
        clinic = item.clinic
        is_packet = isinstance(item, Packet)
        context = {
            "clinic": clinic,
            "level": item.level,
            "meta": _metadata(item),
            "logo_url": clinic.logo.as_uri(),
            "personal": personal,
            "stylesheet_links": [path.as_uri() for path in self._stylesheet_files(clinic)] if standalone else [],
            "inline_css": self._clinic_css(clinic) if standalone else "",
            ("packet" if is_packet else "handout"): item,
        }
        try:
            template = self.environment(clinic).get_template(PACKET_TEMPLATE if is_packet else BASE_TEMPLATE)
            html = template.render(context)
        except jinja2.TemplateSyntaxError as error:
            where = f"{self.project.relative(Path(error.filename))}:{error.lineno}" if error.filename else "template"
            raise RenderError(f"{where}: template syntax error: {error.message}") from None
        except jinja2.TemplateError as error:
            raise RenderError(f"{self._describe(item)}: template error: {error}") from None
        problems = accessibility_problems(html)
        if problems:
            raise RenderError(f"{self._describe(item)}: not accessible: " + "; ".join(problems))
        return html

    # ------------------------------------------------------------ PDF

    def stylesheets(self, clinic: Clinic) -> list[weasyprint.CSS]:
        """Base CSS (parsed once, so its fonts load once), the clinic's colours and paper, then the
        clinic's own CSS (parsed once per clinic)."""
        if clinic.id not in self._stylesheets:
            base, *overrides = self._stylesheet_files(clinic)
            with _weasyprint_warnings_fail(f"stylesheets for clinic {clinic.id!r}"):
                if self._base_sheet is None:
                    self._base_sheet = self._css_file(base)
                sheets = [
                    self._base_sheet,
                    weasyprint.CSS(string=self._clinic_css(clinic), font_config=self._fonts),
                ]
                sheets.extend(self._css_file(path) for path in overrides)
            self._stylesheets[clinic.id] = sheets
        return self._stylesheets[clinic.id]

    def _stylesheet_files(self, clinic: Clinic) -> list[Path]:
        override = clinic.folder / CLINIC_STYLESHEET
        return [self.project.templates_dir / BASE_STYLESHEET, *([override] if override.is_file() else [])]

    def _css_file(self, path: Path) -> weasyprint.CSS:
        if not path.is_file():
            raise RenderError(f"{self.project.relative(path)}: stylesheet not found")
        return weasyprint.CSS(
            filename=str(path), url_fetcher=self._fetcher, font_config=self._fonts, base_url=path.parent.as_uri() + "/"
        )

    @staticmethod
    def _clinic_css(clinic: Clinic) -> str:
        # Colours and paper were validated by the loader (hex colours, letter|a4).
        return (
            f":root {{ --primary: {clinic.primary_color}; --accent: {clinic.accent_color}; }}\n"
            f"@page {{ size: {clinic.paper}; }}\n"
        )

    def pdf(self, item: Printable, personal: Personal | None = None) -> bytes:
        """A handout or packet as PDF bytes: tagged, fonts embedded, identical for identical inputs."""
        return self.rendered(item, personal).data

    def rendered(self, item: Printable, personal: Personal | None = None) -> Rendered:
        """The PDF bytes with their page count (known from layout, so nobody re-parses the PDF)."""
        html = self.html(item, personal=personal)
        stylesheets = self.stylesheets(item.clinic)
        options: dict = {"pdf_variant": None if self.pdf_variant == "plain" else self.pdf_variant}
        finisher = claim_pdf_ua if self.pdf_variant in ARCHIVAL_VARIANTS else None
        with _weasyprint_warnings_fail(self._describe(item)):
            document = weasyprint.HTML(
                string=html, base_url=self.project.templates_dir.as_uri() + "/", url_fetcher=self._fetcher
            ).render(stylesheets=stylesheets, font_config=self._fonts, cache=self._image_cache)
            data = document.write_pdf(finisher=finisher, **options)
            return Rendered(data, len(document.pages), item.document_title)

    @staticmethod
    def _describe(item: Printable) -> str:
        if isinstance(item, Packet):
            topics = "+".join(handout.topic.id for handout in item.handouts)
            return f"packet {topics} × {item.clinic.id} × {item.level.id}"
        return f"{item.topic.id} × {item.clinic.id} × {item.level.id}"


def _metadata(item: Printable) -> dict[str, str]:
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


_PDFUA_XMP = b'<rdf:Description xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" rdf:about="" pdfuaid:part="1"/>'


def claim_pdf_ua(document, pdf) -> None:
    """An archival PDF/A-3a file is tagged too: say so in its XMP, so it honestly claims PDF/UA-1 as well."""
    metadata = pdf.catalog["Metadata"]
    stream = next(obj for obj in pdf.objects if getattr(obj, "reference", None) == metadata)
    content = b"".join(stream.stream)
    stream.stream = [content.replace(b"</rdf:RDF>", _PDFUA_XMP + b"</rdf:RDF>", 1)]
