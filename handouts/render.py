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
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .errors import RenderError
from .models import Clinic, Project
from .resolve import Handout

BASE_TEMPLATE = "handout.html"
BASE_STYLESHEET = "handout.css"
CLINIC_STYLESHEET = "clinic.css"
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3a", "plain")
DEFAULT_VARIANT = "pdf/ua-1"


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


def document_dates(handout: Handout) -> tuple[str, str]:
    """Creation and modification dates: the review date, or SOURCE_DATE_EPOCH; never the clock."""
    created = handout.reviewed.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        modified = dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return created, modified
    return created, created


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
    _image_cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.pdf_variant not in PDF_VARIANTS:
            raise RenderError(f"unknown PDF variant {self.pdf_variant!r}; choose one of: {', '.join(PDF_VARIANTS)}")
        self._fetcher = ProjectFetcher(self.project.root)

    # ------------------------------------------------------------ HTML

    def environment(self, clinic: Clinic) -> jinja2.Environment:
        """Template search path: the clinic's folder first, then the project's base templates."""
        if clinic.id not in self._environments:
            loader = jinja2.FileSystemLoader([str(clinic.folder), str(self.project.templates_dir)])
            self._environments[clinic.id] = jinja2.Environment(
                loader=loader,
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
        return self._environments[clinic.id]

    def html(self, handout: Handout, standalone: bool = False) -> str:
        """The handout as HTML; ``standalone`` links the stylesheets so a browser shows it styled.

        For PDFs the stylesheets are passed to WeasyPrint already parsed instead.
        """
        created, modified = document_dates(handout)
        clinic = handout.clinic
        try:
            template = self.environment(clinic).get_template(BASE_TEMPLATE)
            return template.render(
                handout=handout,
                topic=handout.topic,
                clinic=clinic,
                level=handout.level,
                logo_url=clinic.logo.as_uri(),
                created=created,
                modified=modified,
                stylesheet_links=[path.as_uri() for path in self._stylesheet_files(clinic)] if standalone else [],
                inline_css=self._clinic_css(clinic) if standalone else "",
            )
        except jinja2.TemplateSyntaxError as error:
            where = f"{self.project.relative(Path(error.filename))}:{error.lineno}" if error.filename else "template"
            raise RenderError(f"{where}: template syntax error: {error.message}") from None
        except jinja2.TemplateError as error:
            raise RenderError(f"{self._describe(handout)}: template error: {error}") from None

    # ------------------------------------------------------------ PDF

    def stylesheets(self, clinic: Clinic) -> list[weasyprint.CSS]:
        """Base CSS, the clinic's colours and paper, then the clinic's own CSS; parsed once per clinic."""
        if clinic.id not in self._stylesheets:
            base, *overrides = self._stylesheet_files(clinic)
            with _weasyprint_warnings_fail(f"stylesheets for clinic {clinic.id!r}"):
                sheets = [
                    self._css_file(base),
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

    def pdf(self, handout: Handout) -> bytes:
        """The handout as PDF bytes: tagged, fonts embedded, identical for identical inputs."""
        return self.rendered(handout).data

    def rendered(self, handout: Handout) -> Rendered:
        """The PDF bytes with their page count (known from layout, so nobody re-parses the PDF)."""
        html = self.html(handout)
        stylesheets = self.stylesheets(handout.clinic)
        options: dict = {"pdf_variant": None if self.pdf_variant == "plain" else self.pdf_variant}
        with _weasyprint_warnings_fail(self._describe(handout)):
            document = weasyprint.HTML(
                string=html, base_url=self.project.templates_dir.as_uri() + "/", url_fetcher=self._fetcher
            ).render(stylesheets=stylesheets, font_config=self._fonts, cache=self._image_cache)
            return Rendered(document.write_pdf(**options), len(document.pages), handout.document_title)

    def _describe(self, handout: Handout) -> str:
        return f"{handout.topic.id} × {handout.clinic.id} × {handout.level.id}"
