"""``handouts render`` and ``handouts packet``: one handout, or several topics in one PDF.

Both load what they need, run the gate (see docs, "The gate") and write one
file atomically. A personalised copy is never written to the shared output
folder: it needs an explicit output file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .. import loading, translations
from ..check import Gate, gate_message
from ..defaults import DEFAULT_TIMEOUT, DEFAULT_VARIANT
from ..errors import GateError, UsageError
from ..models import Clinic, Project, Topic
from ..outfolder import output_name, write_atomic
from ..views import Packet, Personal


@dataclass(frozen=True)
class Written:
    """A file a command wrote, and its size."""

    path: Path
    size: int


def personal_details(name: str | None, note: str | None, date: str | None) -> Personal | None:
    """Validate the patient fields of a personalised copy. Their values never appear in a message."""
    if name is None:
        if note is not None or date is not None:
            raise UsageError("--note and --date personalise a copy: give --for NAME too")
        return None
    return Personal.checked(name, note or "", date or "", ("--for", "--note", "--date"))


def only_clinic(project: Project) -> str:
    """The project's clinic when it has exactly one; otherwise the user must choose."""
    clinics = loading.clinic_ids(project)
    if len(clinics) == 1:
        return clinics[0]
    raise UsageError(f"choose a clinic with --clinic: {', '.join(clinics) or 'none found in templates/clinics'}")


@dataclass(frozen=True)
class Choice:
    """Which handout: the clinic, level, language and edition (None: the defaults)."""

    clinic: str | None = None
    level: str | None = None
    language: str | None = None
    edition: str = "regular"


def load_checked(
    project: Project,
    topic_ids: list[str],
    clinic_id: str,
    level: str,
    ignore_check: bool,
    what: str,
    language: str | None = None,
) -> tuple[dict[str, Topic], Clinic]:
    """Load the topics (in ``language``, default: the clinic's first) and the clinic, then run the
    gate for every topic at ``level``. An incomplete translation is refused even with ``ignore_check``:
    a handout is never printed half in English."""
    if level not in project.levels:
        raise UsageError(f"no level {level!r}; available: {', '.join(project.levels)}")
    topics, clinics = loading.load_all(project, topic_ids, [clinic_id])
    clinic, gate = clinics[clinic_id], Gate(project)
    language = language or clinic.printed_languages[0]
    if language not in clinic.printed_languages:
        shown = ", ".join(clinic.printed_languages)
        raise UsageError(f"--language {language}: {clinic_id} prints {shown} (clinic.yaml, languages)")
    untranslated = []
    for topic_id, source in topics.items():
        if language != source.language:
            if not translations.catalog_path(project, topic_id, language).exists():
                raise UsageError(f"{topic_id} has no translation into {language!r}: run `handouts translate update`")
            localized = translations.localize(project, source, language)
            topics[topic_id] = localized.topic
            untranslated += localized.problems(level)
    if untranslated:
        refusal = f"{what} × {clinic_id} × {level} × {language}: not every text it prints is translated and current"
        raise GateError(refusal + "\n" + "\n".join(map(str, untranslated)), untranslated)
    refused = list(dict.fromkeys(e for topic_id in topic_ids for e in gate.errors(topics[topic_id], clinic, level)))
    if refused and not ignore_check:
        raise GateError(f"{what} × {clinic_id} × {level}: " + gate_message(refused), refused)
    return topics, clinic


def check_output(output: Path | None, as_html: bool = False, mkdir: bool = False) -> None:
    """``-o``: a ``.pdf`` file (``.html`` with ``--html``) in a folder that exists, or is made with ``--mkdir``."""
    if output is None:
        return
    wanted = ".html" if as_html else ".pdf"
    if output.suffix.lower() != wanted:
        raise UsageError(f"-o {output}: the file name must end in {wanted}")
    if not mkdir and not output.parent.is_dir():  # with --mkdir, the writer makes it
        raise UsageError(f"-o {output}: the folder {output.parent} does not exist; create it, or add --mkdir")


def write(path: Path, data: bytes, thumbnail: bool = False) -> list[Written]:
    """Write ``data`` atomically, and page 1 as a PNG beside it when asked."""
    write_atomic(path, data)
    written = [Written(path, len(data))]
    if thumbnail:
        from ..thumbnails import thumbnail as page_one

        png = page_one(data)
        write_atomic(path.with_suffix(".png"), png)
        written.append(Written(path.with_suffix(".png"), len(png)))
    return written


def render_handout(
    project: Project,
    topic_id: str,
    choice: Choice = Choice(),
    output: Path | None = None,
    as_html: bool = False,
    personal: Personal | None = None,
    thumbnail: bool = False,
    pdf_variant: str = DEFAULT_VARIANT,
    ignore_check: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Written]:
    """Render one handout (PDF, or HTML with ``as_html``) and write it; returns what was written."""
    if personal and output is None:
        raise UsageError("a personalised copy needs -o FILE: it never goes into the shared output folder")
    from ..templates import Templates

    clinic_id = choice.clinic or only_clinic(project)
    level = choice.level or project.default_level
    topics, clinic = load_checked(project, [topic_id], clinic_id, level, ignore_check, topic_id, choice.language)
    templates = Templates(project)
    handout = templates.view(topics[topic_id], clinic, level, choice.edition)
    if personal is not None:
        personal = replace(personal, language=handout.language)
    if output is None:
        name = output_name(handout.topic, clinic, level, choice.edition)
        output = project.output_dir / (name[: -len(".pdf")] + ".html" if as_html else name)
    if as_html:
        return write(output, templates.html(handout, personal, standalone=True).encode())
    return write(output, _pdf(project, templates, handout, pdf_variant, timeout, ignore_check, personal), thumbnail)


def render_packet(
    project: Project,
    topic_ids: list[str],
    output: Path,
    choice: Choice = Choice(),
    as_html: bool = False,
    pdf_variant: str = DEFAULT_VARIANT,
    ignore_check: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Written]:
    """Several topics for one clinic at one level in one document; returns what was written."""
    if len(set(topic_ids)) != len(topic_ids):
        raise UsageError("a packet lists each topic once")
    from ..templates import Templates

    clinic_id = choice.clinic or only_clinic(project)
    level = choice.level or project.default_level
    topics, clinic = load_checked(project, topic_ids, clinic_id, level, ignore_check, "packet", choice.language)
    templates = Templates(project)
    handouts = tuple(templates.view(topics[topic_id], clinic, level, choice.edition) for topic_id in topic_ids)
    packet = Packet(handouts[0].clinic, project.levels[level], handouts)
    if as_html:
        return write(output, templates.html(packet, standalone=True).encode())
    return write(output, _pdf(project, templates, packet, pdf_variant, timeout, ignore_check))


def _pdf(
    project: Project,
    templates,
    item,
    pdf_variant: str,
    timeout: float,
    ignore_check: bool,
    personal: Personal | None = None,
) -> bytes:
    """The PDF, rendered in a worker process that is stopped if it takes longer than ``timeout``."""
    from ..workers import WorkerSettings, render_one

    document = templates.document(item, personal)
    if ignore_check:
        document = replace(document, max_pages=None)
    return render_one(document, WorkerSettings(project, pdf_variant), timeout).data
