"""Render stage: a handout's HTML → PDF bytes, with WeasyPrint.

Each handout may read only what it needs (no network, no ``file:///etc/passwd``,
no other clinic's folder): the base templates and fonts, its clinic's own folder
and its topics' asset folders (``content/<topic>/``), regular files only, no
dotfiles, no symlink that leads elsewhere, within the image size limit. File
attachments are refused. Any warning WeasyPrint logs fails the handout: a PDF
silently missing its logo or font is worse than no PDF.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .defaults import DEFAULT_VARIANT, PDF_VARIANTS
from .errors import ConfigError, Diagnostic, RenderError
from .finishing import finish
from .inputs import read_bytes
from .layout import Rendered, lint
from .models import Clinic, Project
from .templates import BASE_STYLESHEET, Confinement, Document, Printable, Templates, clinic_css, stylesheet_files
from .views import Personal

ARCHIVAL_VARIANTS = ("pdf/a-3a",)


class RefusedResource(FatalURLFetchingError):
    """A template or stylesheet asked for something outside the project.

    Derives (through WeasyPrint's class) from BaseException so that WeasyPrint
    stops at once instead of logging and printing the page without it.
    """


class ConfinedFetcher(URLFetcher):
    """Serves what a :class:`~handouts.templates.Confinement` allows; refuses everything else."""

    def __init__(self, confinement: Confinement):
        super().__init__(allowed_protocols=("file",))
        self.confinement = confinement

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        """The file's bytes, or :class:`RefusedResource`."""
        try:
            path, data = self.confinement.read(url)
        except ConfigError as error:
            raise RefusedResource(error.diagnostics[0].message) from None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), data, {"Content-Type": content_type})


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
def _warnings_fail(fail) -> Iterator[None]:
    """Turn every WeasyPrint warning or error log, and every refused resource, into ``fail(code, message)``."""
    logger = logging.getLogger("weasyprint")
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield
    except RefusedResource as error:
        raise fail("HL402", str(error)) from None
    finally:
        logger.removeHandler(collector)
    if collector.messages:
        raise fail("HL403", "WeasyPrint reported: " + "; ".join(dict.fromkeys(collector.messages)))


class ImageCache(dict):
    """WeasyPrint's image cache, without SVG images: WeasyPrint's ``SVGImage`` keeps the layout of
    the document that first drew it, so caching one logo would keep a whole document alive per
    clinic (measured: +30 MiB per worker over 20 clinics). SVGs are small and parsed again."""

    def __setitem__(self, key: object, value: object) -> None:
        if type(value).__name__ != "SVGImage":
            super().__setitem__(key, value)


def keep_font_dates() -> None:
    """Make fontTools subsetting reproducible, as HarfBuzz subsetting is.

    Without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools, which stamps
    the current time into each embedded font's ``head`` table: two renders a second
    apart would differ. HarfBuzz keeps the font's own date; this makes the fontTools
    path keep it too (WeasyPrint builds its ``TTFont`` objects through this name).
    """
    from weasyprint.pdf import fonts

    if not isinstance(fonts.TTFont, functools.partial):
        fonts.TTFont = functools.partial(fonts.TTFont, recalcTimestamp=False)


def unambiguous_stream_ends() -> None:
    """End every stream's data with CR LF when the data itself ends with CR.

    pydyf writes ``data LF endstream``. When compressed data happens to end with a CR
    byte (one stream in 256), a reader takes that CR LF as the end-of-line marker and
    finds the stream one byte shorter than its /Length; PDF/A checkers reject the file
    (ISO 19005-3 6.1.7.1). An extra CR keeps the marker CR LF and the data whole.
    """
    import pydyf

    if getattr(pydyf.Stream.data.fget, "unambiguous", False):
        return
    original = pydyf.Stream.data.fget

    def data(stream) -> bytes:
        written = original(stream)
        if written.endswith(b"\r\nendstream"):
            return written[: -len(b"\nendstream")] + b"\r\nendstream"
        return written

    data.unambiguous = True  # type: ignore[attr-defined]
    pydyf.Stream.data = property(data)


class Renderer:
    """Renders handouts of one project; keeps fonts, stylesheets and images warm between calls."""

    def __init__(self, project: Project, pdf_variant: str = DEFAULT_VARIANT):
        keep_font_dates()
        unambiguous_stream_ends()
        if pdf_variant not in PDF_VARIANTS:
            raise RenderError(f"unknown PDF variant {pdf_variant!r}; choose one of: {', '.join(PDF_VARIANTS)}")
        self.project = project
        self.pdf_variant = pdf_variant
        self.templates = Templates(project)
        self._fetchers: dict[tuple[str, ...], ConfinedFetcher] = {}
        self._fonts = FontConfiguration()
        self._stylesheets: dict[str, list[weasyprint.CSS]] = {}
        self._base_sheet: weasyprint.CSS | None = None
        self._image_caches: dict[tuple[str, ...], ImageCache] = {}  # one per fetcher: a cache hit is no bypass

    def fetcher(self, clinic: Clinic | None, topics: tuple[str, ...] = ()) -> ConfinedFetcher:
        """What a clinic's handout (of ``topics``) may read (see :class:`~handouts.templates.Confinement`)."""
        key = (clinic.id if clinic else "", *topics)
        if key not in self._fetchers:
            self._fetchers[key] = ConfinedFetcher(Confinement(self.project, clinic, topics))
        return self._fetchers[key]

    def warm_up(self) -> None:
        """Parse the base stylesheet (and load its fonts) before the first handout arrives."""
        if self._base_sheet is None:
            with contextlib.suppress(RenderError):  # the first handout reports it, located
                self._base_sheet = self._css_file(self.project.templates_dir / BASE_STYLESHEET)

    def stylesheets(self, clinic: Clinic) -> list[weasyprint.CSS]:
        """Base CSS (parsed once, so its fonts load once), the clinic's colours and paper, then the
        clinic's own CSS (parsed once per clinic)."""
        if clinic.id not in self._stylesheets:
            base, *overrides = stylesheet_files(self.project, clinic)

            def fail(code: str, message: str) -> RenderError:
                return self._stylesheet_error(
                    code, f"stylesheets for clinic {clinic.id!r}: {message}", overrides or [base]
                )

            with _warnings_fail(fail):
                if self._base_sheet is None:
                    self._base_sheet = self._css_file(base)
                sheets = [self._base_sheet, weasyprint.CSS(string=clinic_css(clinic), font_config=self._fonts)]
                sheets.extend(self._css_file(path, clinic) for path in overrides)
            self._stylesheets[clinic.id] = sheets
        return self._stylesheets[clinic.id]

    def _stylesheet_error(self, code: str, message: str, files: list[Path]) -> RenderError:
        return RenderError(diagnostics=[Diagnostic(self.project.relative(files[-1]), 0, 0, message, "error", code)])

    def _css_file(self, path: Path, clinic: Clinic | None = None) -> weasyprint.CSS:
        if not path.is_file():
            raise self._stylesheet_error("HL402", "stylesheet not found", [path])
        try:
            text = read_bytes(path, self.project.relative(path), self.project.limits.template).decode("utf-8")
        except ConfigError as error:
            raise RenderError(diagnostics=error.diagnostics) from None
        except UnicodeDecodeError as error:
            raise self._stylesheet_error("HL005", f"is not UTF-8 text: {error.reason}", [path]) from None
        fetcher = self.fetcher(clinic)
        return weasyprint.CSS(
            string=text, url_fetcher=fetcher, font_config=self._fonts, base_url=path.parent.as_uri() + "/"
        )

    def pdf(self, item: Printable, personal: Personal | None = None) -> bytes:
        """A handout or packet as PDF bytes: tagged, fonts embedded, identical for identical inputs."""
        return self.rendered(self.templates.document(item, personal)).data

    def layout(self, item: Printable) -> weasyprint.Document:
        """The laid-out pages of a handout or packet, as WeasyPrint's boxes (for reading the layout back)."""
        document = self.templates.document(item)
        with _warnings_fail(document.error):
            return self._laid_out(document)

    def _laid_out(self, document: Document) -> weasyprint.Document:
        fetcher = self.fetcher(document.clinic, document.topics)
        cache = self._image_caches.setdefault((document.clinic.id, *document.topics), ImageCache())
        return weasyprint.HTML(
            string=document.html, base_url=self.project.templates_dir.as_uri() + "/", url_fetcher=fetcher
        ).render(stylesheets=self.stylesheets(document.clinic), font_config=self._fonts, cache=cache)

    def rendered(self, document: Document) -> Rendered:
        """The PDF bytes with their page count (known from layout, so nobody re-parses the PDF)."""
        options: dict = {"pdf_variant": None if self.pdf_variant == "plain" else self.pdf_variant}
        finisher = functools.partial(
            finish, archival=self.pdf_variant in ARCHIVAL_VARIANTS, fonts_dir=self.project.templates_dir / "fonts"
        )
        with _warnings_fail(document.error):
            laid_out = self._laid_out(document)
            if laid_out.metadata.attachments or any(
                link[0] == "attachment" for p in laid_out.pages for link in p.links
            ):
                raise document.error("HL402", "file attachments are not allowed in a handout")
            if document.max_pages and len(laid_out.pages) > document.max_pages:
                message = (
                    f"{len(laid_out.pages)} pages; its level's budget is {document.max_pages} (max_pages):"
                    " write less, or use --ignore-check to make it anyway"
                )
                raise document.error("HL106", message)
            layout = tuple(lint(laid_out.pages, document.min_font_pt))
            data = laid_out.write_pdf(finisher=finisher, **options)
            return Rendered(data, len(laid_out.pages), document.title, document.updated, document.status, layout)
