"""Templates: the Jinja2 environment of a clinic, the names of the templates and
stylesheets, and the HTML a handout or packet becomes.

Templates come from many hands (clinic overrides), so they are untrusted: Jinja2
runs sandboxed (``ImmutableSandboxedEnvironment``: no private attributes, no
changing data, no file paths), with autoescape and StrictUndefined; templates are
read only from the clinic's own folder and the base templates, within the size
limit. Content is data, never a template. The HTML is scanned before anything is
rendered: what PDF/UA needs (language, alt text, heading order), and no file
attachments.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import traceback
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import jinja2
import jinja2.sandbox
from jinja2.loaders import split_template_path
from markupsafe import Markup

from .errors import ConfigError, Diagnostic, RenderError
from .inputs import read_bytes, read_text
from .linebreaks import break_thai_html, keep_words
from .models import Clinic, Project, Topic, base_language
from .translations import UiCatalog, read_ui_catalog
from .views import Handout, Packet, Personal, handout_view

Printable = Handout | Packet

BASE_TEMPLATE = "handout.html"
PACKET_TEMPLATE = "packet.html"
BASE_STYLESHEET = "handout.css"
CLINIC_STYLESHEET = "clinic.css"
LARGE_PRINT_PT = 18.0  # the large-print edition's smallest text (APH and ACB guidelines)


class Confinement:
    """What one clinic's handout (of ``topics``) may read: the base templates and fonts, the clinic's
    own folder and the topics' asset folders (``content/<topic>/``); never another clinic's folder,
    a dotfile, a link that leads elsewhere, a file that is not regular or is over the image limit."""

    def __init__(self, project: Project, clinic: Clinic | None, topics: tuple[str, ...] = ()):
        self.project = project
        folders = (
            project.templates_dir,
            *((clinic.folder,) if clinic else ()),
            *(project.content_dir / t for t in topics),
        )
        self._allowed = tuple(folder.resolve() for folder in folders)
        self._excluded = project.clinics_dir.resolve()

    def read(self, url: str) -> tuple[Path, bytes]:
        """The file ``url`` names and its bytes; a :class:`ConfigError` (HL402) says why not."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise self._refused(url, "only the project's own files may be used")
        path = Path(os.path.normpath(url2pathname(parts.path)))
        if self._folder_of(path) is None:
            raise self._refused(url, "not a file this handout may use")
        real_folder = self._folder_of(path.resolve())
        if real_folder is None:
            raise self._refused(url, "a link to a file this handout may not use")
        try:
            return path, read_bytes(path, self.project.relative(path), self.project.limits.image, within=real_folder)
        except ConfigError as error:
            raise self._refused(url, error.diagnostics[0].message) from None

    def _refused(self, url: str, why: str) -> ConfigError:
        return ConfigError(diagnostics=[Diagnostic("", 0, 0, f"refused to fetch {url!r}: {why}", "error", "HL402")])

    def _folder_of(self, path: Path) -> Path | None:
        """The allowed folder ``path`` is in, if no part of it below that folder is a dotfile and
        it is not in the clinics folder (unless the allowed folder is: the clinic's own)."""
        for folder in self._allowed:
            if not path.is_relative_to(folder) or any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            if not path.is_relative_to(self._excluded) or folder.is_relative_to(self._excluded):
                return folder
        return None


class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, and no attribute of a file path: a template may print what the
    handout gives it, never open a file (``clinic.folder.read_text()`` is refused)."""

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        """Refused: file paths' attributes, then whatever Jinja2's immutable sandbox refuses."""
        if isinstance(obj, os.PathLike):
            return False
        return super().is_safe_attribute(obj, attr, value)


class ConfinedLoader(jinja2.BaseLoader):
    """Templates from the clinic's folder, then the base templates (never another clinic's): regular
    files inside those folders, no dotfiles, UTF-8, within the template size limit."""

    def __init__(self, project: Project, clinic: Clinic):
        self.project = project
        self.folders = (clinic.folder, project.templates_dir)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, object]:
        """The template's text, its file name and an "is it unchanged" check."""
        pieces = split_template_path(template)  # refuses ".." (TemplateNotFound)
        if any(piece.startswith(".") for piece in pieces) or pieces[:1] == ["clinics"]:
            raise jinja2.TemplateNotFound(template)
        for folder in self.folders:
            path = folder.joinpath(*pieces)
            if path.exists() or path.is_symlink():
                text = read_text(path, self.project.relative(path), self.project.limits.template, within=folder)
                return text, str(path), _unchanged(path)
        raise jinja2.TemplateNotFound(template)


def _unchanged(path: Path):
    """Jinja2's "is this template still up to date?" check for ``path``."""
    modified = path.stat().st_mtime

    def unchanged() -> bool:
        return path.is_file() and path.stat().st_mtime == modified

    return unchanged


def environment(project: Project, clinic: Clinic) -> jinja2.Environment:
    """The clinic's sandboxed environment: its own folder first, then the project's base templates.

    Words are marked for translation with ``_("...")`` and ``{% trans %}`` (Jinja2's i18n extension);
    :meth:`Templates.html` installs the handout's language before each render."""
    env = Sandbox(
        loader=ConfinedLoader(project, clinic),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["css_counters"] = css_counters
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


_COUNTER = re.compile(r"\{(pages?)\}")


def css_counters(text: str, page: str = "counter(page)") -> Markup:
    """A translated "Page {page} of {pages}" as a CSS ``content`` value: quoted words between counters.

    The words are escaped for a CSS string inside ``<style>`` (quotes, backslashes, ``<``), so a
    translation can never end the rule or the element.
    """
    pieces = []
    for i, part in enumerate(_COUNTER.split(str(text))):
        if i % 2:
            pieces.append(page if part == "page" else "counter(pages)")
        elif part:
            escaped = "".join(ch if ch.isalnum() or ch in " .,:;-—–()" else f"\\{ord(ch):x} " for ch in part)
            pieces.append(f'"{escaped}"')
    return Markup(" ".join(pieces) or '""')


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


def document_dates(updated: dt.date) -> tuple[str, str]:
    """Creation and modification dates: never the clock.

    The creation date is the content's date (when its text last changed); the modification date
    is ``SOURCE_DATE_EPOCH`` when that is set and later, else the creation date again,
    so a file is never modified before it was created.
    """
    created = updated.isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        if moment.date() > updated:
            return created, moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return created, created


def metadata(item: Printable, gettext=str) -> dict[str, str]:
    """What goes into the PDF's document information and XMP, in its language: never patient data."""
    created, modified = document_dates(item.updated)
    education = gettext("patient education")
    if isinstance(item, Packet):
        titles = ", ".join(handout.title for handout in item.handouts)
        description = gettext("Patient information packet: {titles}").format(titles=titles)
        keywords, label = f"{titles}, {education}", item.handouts[0].level_label or item.level.label
    else:
        description = gettext("Patient information: {title}").format(title=item.title)
        keywords, label = f"{item.title}, {education}", item.level_label or item.level.label
    return {
        "title": item.document_title,
        "author": item.clinic.name,
        "description": description,
        "keywords": f"{keywords}, {label}",
        "created": created,
        "modified": modified,
    }


def page_budget(item: Printable, personal: Personal | None = None) -> int | None:
    """The pages a handout may take when its level enforces ``max_pages`` as an error (not for packets,
    personalised copies or large print, whose extra pages are the reader's own)."""
    if isinstance(item, Packet) or personal is not None or item.edition == "large":
        return None  # large print takes the pages it needs: the budget is for the regular edition
    level = item.level
    return level.max_pages if level.severity("HL106", "error") == "error" else None


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
    updated: str
    name: str  # ``topic × clinic × level``, for messages
    source: str  # the file problems are reported against
    topics: tuple[str, ...] = ()  # whose assets (``content/<topic>/``) it may use
    status: str = "draft"  # draft | reviewed (a packet is a draft if any topic is)
    max_pages: int | None = None  # the level's page budget, checked after layout
    min_font_pt: float = 12.0  # the layout lint's smallest text

    def error(self, code: str, message: str) -> RenderError:
        """A :class:`RenderError` about this document."""
        return RenderError(diagnostics=[Diagnostic(self.source, 0, 0, f"{self.name}: {message}", "error", code)])


class Templates:
    """Turns handouts and packets of one project into HTML; keeps one environment per clinic."""

    def __init__(self, project: Project):
        self.project = project
        self._environments: dict[str, jinja2.Environment] = {}
        self._catalogs: dict[str, UiCatalog] = {}

    def catalog(self, language: str) -> UiCatalog | None:
        """The templates' words in ``language`` (None for English, the templates' own language)."""
        if base_language(language) == "en":
            return None
        if language not in self._catalogs:
            self._catalogs[language] = read_ui_catalog(self.project, language)
        return self._catalogs[language]

    def environment(self, clinic: Clinic) -> jinja2.Environment:
        """The clinic's environment, made on first use."""
        if clinic.id not in self._environments:
            self._environments[clinic.id] = environment(self.project, clinic)
        return self._environments[clinic.id]

    def view(self, topic: Topic, clinic: Clinic, level: str, edition: str = "regular") -> Handout:
        """What one handout prints, in the topic's language (the clinic's texts and the level's label too)."""
        catalog = self.catalog(topic.language)
        gettext = catalog.gettext if catalog else str
        return handout_view(self.project, topic, clinic.in_language(topic.language), level, gettext, edition)

    def html(self, item: Printable, personal: Personal | None = None, standalone: bool = False) -> str:
        """A handout or a packet as HTML; ``standalone`` links the stylesheets so a browser shows it styled.

        Raises :class:`RenderError` (HL401 template error, HL404 not accessible).
        """
        clinic = item.clinic
        is_packet = isinstance(item, Packet)
        catalog = self.catalog(item.language)
        missing: dict[str, None] = {}

        def gettext(message: str) -> str:
            if catalog is None:
                return message
            if message not in catalog.messages:
                missing[message] = None
            return catalog.gettext(message)

        env = self.environment(clinic)
        env.install_gettext_callables(gettext, lambda one, many, n: gettext(one if n == 1 else many), newstyle=True)  # type: ignore[attr-defined]
        context = {
            "clinic": clinic,
            "level": item.level,
            "meta": metadata(item, gettext),
            "logo_url": clinic.logo.as_uri(),
            "personal": personal,
            "draft_kind": item.draft_kind,
            # Thai: the running title as a string whose words stay whole in the page margin
            "running_title": keep_words(item.title) if not is_packet and base_language(item.language) == "th" else "",
            "stylesheet_links": [p.as_uri() for p in stylesheet_files(self.project, clinic)] if standalone else [],
            "inline_css": clinic_css(clinic) if standalone else "",
            ("packet" if is_packet else "handout"): item,
        }
        try:
            template = env.get_template(PACKET_TEMPLATE if is_packet else BASE_TEMPLATE)
            html = template.render(context)
        except ConfigError as error:  # a template that cannot be read: located by the reader
            raise RenderError(diagnostics=error.diagnostics) from None
        except jinja2.TemplateSyntaxError as error:
            where = (self.project.relative(Path(error.filename)), error.lineno) if error.filename else None
            raise render_error(self.project, item, "HL401", f"template syntax error: {error.message}", where) from None
        except jinja2.sandbox.SecurityError as error:
            message = f"template does what templates may not (sandbox): {error}"
            raise render_error(self.project, item, "HL016", message, self._template_line(error)) from None
        except jinja2.TemplateError as error:
            where = self._template_line(error)
            raise render_error(self.project, item, "HL401", f"template error: {error}", where) from None
        if missing and catalog is not None:
            words = "; ".join(repr(message) for message in missing)
            message = (
                f"the templates' words are not translated into {catalog.language!r} in {catalog.shown_as}: {words}"
            )
            raise render_error(self.project, item, "HL110", message + " (run `handouts translate update`)")
        if base_language(item.language) == "th":
            html = break_thai_html(html)
        scan = scan_html(html)
        if scan.attachments:
            message = f"file attachments are not allowed in a handout: {', '.join(scan.attachments)}"
            raise render_error(self.project, item, "HL402", message)
        if scan.problems:
            raise render_error(self.project, item, "HL404", "not accessible: " + "; ".join(scan.problems))
        return html

    def document(self, item: Printable, personal: Personal | None = None) -> Document:
        """The HTML of ``item`` (for a PDF: stylesheets are given to WeasyPrint parsed) as a :class:`Document`."""
        return Document(
            self.html(item, personal),
            item.clinic,
            item.document_title,
            item.updated.isoformat(),
            describe(item),
            source_file(self.project, item),
            tuple(h.topic.id for h in item.handouts) if isinstance(item, Packet) else (item.topic.id,),
            "draft" if item.is_draft else "reviewed",
            page_budget(item, personal),
            LARGE_PRINT_PT if item.edition == "large" else item.level.min_font_pt,
        )

    def _template_line(self, error: BaseException) -> tuple[str, int] | None:
        """The template file and line a runtime error happened on (Jinja puts them in the traceback)."""
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename.endswith(".html") and Path(frame.filename).is_file():
                return self.project.relative(Path(frame.filename)), frame.lineno or 0
        return None


# Attributes whose URL the renderer fetches, by element (<a href> is a link, not fetched).
RESOURCE_ATTRIBUTES = {
    "img": ("src",),
    "link": ("href",),
    "object": ("data",),
    "embed": ("src",),
    "image": ("href", "xlink:href"),
    "source": ("src",),
    "video": ("poster",),
}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


def resource_problems(project: Project, clinic: Clinic, topics: tuple[str, ...], html: str) -> list[Diagnostic]:
    """Every resource ``html`` would make the renderer fetch that its confinement refuses (HL402)."""
    confinement = Confinement(project, clinic, topics)
    base = project.templates_dir.as_uri() + "/"
    problems = []
    for url in dict.fromkeys(scan_html(html).resources):
        try:
            confinement.read(urljoin(base, url.strip()))
        except ConfigError as error:
            problems.append(error.diagnostics[0])
    return problems


class HTMLScan(HTMLParser):
    """Finds what PDF/UA needs and WeasyPrint would only log (alt text, language, heading order), and
    file attachments (``rel=attachment``), which WeasyPrint would embed."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.attachments: list[str] = []
        self.resources: list[str] = []  # URLs the renderer will fetch
        self.language = ""
        self.last_heading = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note an attachment, the language, an image without alt text, a skipped heading level."""
        attributes = dict(attrs)
        if "attachment" in (attributes.get("rel") or "").lower().split():
            self.attachments.append(repr(attributes.get("href") or "?"))
        for name in RESOURCE_ATTRIBUTES.get(tag, ()):
            if attributes.get(name):
                self.resources.append(attributes[name] or "")
        self.resources.extend(CSS_URL.findall(attributes.get("style") or ""))
        if tag == "html":
            self.language = (attributes.get("lang") or "").strip()
        elif tag == "img" and not (attributes.get("alt") or "").strip():
            self.problems.append(f"image {attributes.get('src', '?')!r} has no alt text")
        elif len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            level = int(tag[1])
            if level > self.last_heading + 1:
                self.problems.append(f"heading <{tag}> follows <h{self.last_heading or 0}>: a heading level is skipped")
            self.last_heading = level


def scan_html(html: str) -> HTMLScan:
    """What is wrong with ``html`` before it is rendered: PDF/UA problems and attachments."""
    scan = HTMLScan()
    scan.feed(html)
    scan.close()
    if not scan.language:
        scan.problems.insert(0, "the document has no language (<html lang>)")
    return scan
