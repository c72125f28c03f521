"""Load stage: YAML files → validated models, with every problem located.

All problems of a file (and of a whole project) are collected and raised together
in one :class:`ConfigError`, so an author fixes them in one pass, not one per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from . import schema
from .errors import ConfigError, Diagnostic, UsageError
from .fields import (
    LANGUAGE,
    SLUG,
    SLUG_RULE,
    WEBSITE,
    Fields,
    boolean,
    check_id,
    did_you_mean,
    key_positions,
    number,
    texts,
)
from .inputs import IMAGE_MAGIC, KIB, PROJECT_FILE_LIMIT, Limits, looks_like_image, read_bytes
from .models import EDITIONS, LEVEL_RULES, PAPER_SIZES, SEVERITIES, Clinic, Contact, Level, Project, Topic
from .topics import load_topic
from .yamlstrict import Located, Map, Seq, Str, read_yaml

__all__ = ["SLUG", "SLUG_RULE", "check_id", "load_all", "load_clinic", "load_project", "load_topic"]

PROJECT_FILE = "handouts.yaml"
COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{4,24}[0-9]$")
EMERGENCY = re.compile(r"^\+?[0-9][0-9 ]{1,14}$")
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


# ---------------------------------------------------------------- project


def given_project_root(folder: Path) -> Path:
    """The folder named by ``--project``, if it holds ``handouts.yaml``; the error names the folder."""
    if not folder.is_dir():
        raise UsageError(f"--project {folder}: no such folder")
    if not (folder / PROJECT_FILE).is_file():
        raise UsageError(
            f"--project {folder}: no {PROJECT_FILE} in that folder; run 'handouts init {folder}' to start one"
        )
    return folder.resolve()


def find_project_root(start: Path) -> Path:
    """The folder holding ``handouts.yaml``: ``start`` or one of its parents."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise UsageError(f"no {PROJECT_FILE} found in {start} or its parents; run 'handouts init DIR' to start a project")


def load_project(root: Path) -> Project:
    """Read ``handouts.yaml`` in ``root``."""
    root = root.resolve()
    check = Fields(PROJECT_FILE)
    data = read_yaml(root / PROJECT_FILE, PROJECT_FILE, PROJECT_FILE_LIMIT, root)
    check.mapping(data, "project", schema.PROJECT.names, schema.PROJECT.required)
    levels = _load_levels(check, data.get("levels"))
    folders = {key: _project_folder(check, root, data, key) for key in ("output", "content", "templates")}
    _dedicated_output(check, root, data, folders)
    limits = _load_limits(check, data.get("limits"))
    default_level = str(data.get("default_level", "standard" if "standard" in levels else next(iter(levels), "")))
    if levels and default_level not in levels:
        check.error(data.get("default_level"), f"project.default_level: {default_level!r} is not one of the levels")
    jargon = data.get("jargon", Seq())
    if not isinstance(jargon, Seq) or not all(isinstance(term, Str) for term in jargon):
        check.error(jargon if isinstance(jargon, Located) else data, "project.jargon: expected a list of words")
        jargon = Seq()
    project_editions = editions(check, data, "project") if "editions" in data else ("regular",)
    check.raise_if_any()
    return Project(
        root=root,
        levels=levels,
        output_dir=folders["output"],
        content_dir=folders["content"],
        templates_dir=folders["templates"],
        clinics_dir=folders["templates"] / "clinics",
        default_level=default_level,
        jargon=tuple(str(term).lower() for term in jargon),
        limits=limits,
        editions=project_editions,
    )


def _project_folder(check: Fields, root: Path, data: Map, key: str) -> Path:
    value = check.text(data, key, "project", required=False) or key
    folder = (root / value).resolve()
    if not folder.is_relative_to(root):
        check.error(data.get(key), f"project.{key}: {value!r} must be a folder inside the project")
        return root / key
    return folder


def _dedicated_output(check: Fields, root: Path, data: Map, folders: dict[str, Path]) -> None:
    """The output folder is the build's own: not the project, nor content or templates, nor around them.

    A build deletes its temporary files and stale outputs there, so sharing a folder
    with anything else could delete what is not ours.
    """
    output = folders["output"]
    others = {"the project folder": root, "content": folders["content"], "templates": folders["templates"]}
    for name, folder in others.items():
        if output == folder or folder.is_relative_to(output) or (folder != root and output.is_relative_to(folder)):
            check.error(
                data.get("output", data),
                f"project.output: {project_relative(root, output)!r} overlaps {name}; use a folder of its own,"
                " such as 'output'",
            )
            return


def project_relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` when inside it ("." for the root itself)."""
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


LIMIT_KEYS = {"topic_kib": "topic", "clinic_kib": "clinic", "template_kib": "template", "image_kib": "image"}


def _load_limits(check: Fields, value: object) -> Limits:
    """``limits:`` in KiB; each from 1 to 100,000."""
    if value is None:
        return Limits()
    mapping = check.mapping(value, "project.limits", schema.LIMITS.names)
    if mapping is None:
        return Limits()
    sizes = {
        LIMIT_KEYS[key]: int(number(check, mapping, key, "project.limits", 1, 100_000)) * KIB
        for key in LIMIT_KEYS
        if key in mapping
    }
    return replace(Limits(), **sizes)


def _load_levels(check: Fields, value: object) -> dict[str, Level]:
    levels: dict[str, Level] = {}
    mapping = check.mapping(value, "project.levels", ()) if not isinstance(value, Map) else value
    if mapping is None:
        return levels
    if not mapping:
        check.error(mapping, "project.levels: define at least one reading level")
    for level_id, spec in mapping.items():
        what = f"project.levels.{level_id}"
        if not SLUG.match(level_id):
            line, column = mapping.key_positions[level_id]
            check.error_at(line, column, f"{what}: level ids use a-z, 0-9 and -", "HL015")
        spec = check.mapping(spec, what, schema.LEVEL.names, schema.LEVEL.required)
        if spec is None:
            continue
        label = check.text(spec, "label", what) or level_id
        grade = number(check, spec, "max_grade", what, 1, 20)
        words = int(number(check, spec, "max_sentence_words", what, 5, 60)) if "max_sentence_words" in spec else None
        plain = boolean(check, spec, "plain_language", what)
        levels[level_id] = Level(
            level_id,
            str(label),
            grade,
            words,
            plain,
            max_unfamiliar_percent=_optional(check, spec, "max_unfamiliar_percent", what, 0, 100),
            max_long_word_percent=_optional(check, spec, "max_long_word_percent", what, 0, 100),
            max_pages=int(number(check, spec, "max_pages", what, 1, 100)) if "max_pages" in spec else None,
            min_font_pt=number(check, spec, "min_font_pt", what, 6, 72) if "min_font_pt" in spec else 12.0,
            min_inflesz=_optional(check, spec, "min_inflesz", what, 0, 100),
            severities=_severities(check, spec.get("severity"), f"{what}.severity"),
        )
    return levels


def _optional(check: Fields, spec: Map, key: str, what: str, low: float, high: float) -> float | None:
    return number(check, spec, key, what, low, high) if key in spec else None


def _severities(check: Fields, value: object, what: str) -> dict[str, str]:
    """``severity:`` of a level: rule name → error, warning or off."""
    if value is None:
        return {}
    mapping = check.mapping(value, what, LEVEL_RULES)
    if mapping is None:
        return {}
    found = {}
    for rule in mapping:
        text = check.text(mapping, rule, what)
        if text is not None and text not in SEVERITIES:
            check.error(text, f"{what}.{rule}: {text!r} is not one of: {', '.join(SEVERITIES)}")
        elif text is not None:
            found[rule] = str(text)
    return found


# ---------------------------------------------------------------- ids


def select_ids(kind: str, wanted: Iterable[str] | None, available: list[str]) -> list[str]:
    """The ``wanted`` ids (each checked to exist), or all ``available`` ones when none are named."""
    wanted = list(wanted or [])
    for item in wanted:
        check_id(kind, item)
        if item not in available:
            raise UsageError(f"no {kind} {item!r}{did_you_mean(item, available)}")
    return wanted or available


def topic_ids(project: Project) -> list[str]:
    """Ids of every topic file in the content folder (names are not validated here)."""
    return sorted(path.stem for path in project.content_dir.glob("*.yaml"))


def clinic_ids(project: Project) -> list[str]:
    """Ids of every clinic folder holding a ``clinic.yaml``."""
    if not project.clinics_dir.is_dir():
        return []
    return sorted(path.parent.name for path in project.clinics_dir.glob("*/clinic.yaml"))


# ---------------------------------------------------------------- clinics


def load_clinic(project: Project, clinic_id: str) -> Clinic:
    """Read and validate ``templates/clinics/<clinic_id>/clinic.yaml`` and its logo."""
    check_id("clinic", clinic_id)
    folder = project.clinics_dir / clinic_id
    path = folder / "clinic.yaml"
    if not path.exists() and not path.is_symlink():
        where = project.relative(project.clinics_dir)
        raise UsageError(f"no clinic {clinic_id!r} in {where}/{did_you_mean(clinic_id, clinic_ids(project))}")
    shown_as = project.relative(path)
    check = Fields(shown_as)
    data = read_yaml(path, shown_as, project.limits.clinic, folder)
    check.mapping(data, "clinic", schema.CLINIC.names, schema.CLINIC.required)
    name = str(check.text(data, "name", "clinic") or "")
    logo = _clinic_logo(check, data, folder, project.limits.image)
    colors = check.mapping(data.get("colors", Map()), "clinic.colors", schema.COLORS.names, schema.COLORS.required)
    primary = accent = ""
    if colors is not None:
        primary = check.matching(colors, "primary", "clinic.colors", COLOR, '"#1d4e89" (in quotes)', "HL302")
        accent = check.matching(colors, "accent", "clinic.colors", COLOR, '"#f4a259" (in quotes)', "HL302")
    paper = check.text(data, "paper", "clinic")
    if paper is not None and paper not in PAPER_SIZES:
        check.error(paper, f"clinic.paper: {paper!r} is not one of: {', '.join(PAPER_SIZES)}", "HL303")
    language = check.matching(data, "language", "clinic", LANGUAGE, '"en"') if "language" in data else "en"
    languages = _languages(check, data, language)
    contact = _clinic_contact(check, data.get("contact", Map()))
    disclaimer = check.text(data, "disclaimer", "clinic")
    about = check.text(data, "about", "clinic", required=False)
    logo_alt = check.text(data, "logo_alt", "clinic", required=False)
    texts_by_language = _clinic_translations(check, data, language, languages, about is not None)
    clinic_editions = editions(check, data, "clinic") if "editions" in data else ()
    check.raise_if_any()
    return Clinic(
        id=clinic_id,
        folder=folder,
        name=name,
        logo=logo,
        logo_alt=str(logo_alt or f"{name} logo"),
        primary_color=primary.lower(),
        accent_color=accent.lower(),
        paper=str(paper),
        language=language,
        contact=contact,
        disclaimer=str(disclaimer),
        about=str(about or ""),
        logo_has_name=boolean(check, data, "logo_has_name", "clinic"),
        positions=key_positions(data, shown_as, ("colors", "contact")),
        languages=languages,
        translations=texts_by_language,
        editions=clinic_editions,
    )


def _languages(check: Fields, data: Map, language: str) -> tuple[str, ...]:
    """``languages``: language codes, no repeats; default: the clinic's own ``language``."""
    if "languages" not in data:
        return (language,)
    found = []
    for value in texts(check, data["languages"], "clinic.languages"):
        if not LANGUAGE.fullmatch(str(value)):
            check.error(value, f"clinic.languages: {str(value)!r} is not a language code such as en, es or th")
        elif str(value) in found:
            check.error(value, f"clinic.languages: {str(value)!r} is listed twice")
        else:
            found.append(str(value))
    if not found:
        check.error(data["languages"], "clinic.languages: name at least one language")
    return tuple(found)


def _clinic_translations(
    check: Fields, data: Map, language: str, languages: tuple[str, ...], has_about: bool
) -> dict[str, dict[str, str]]:
    """``translations``: the clinic's texts per language; every printed language needs its disclaimer."""
    value = data.get("translations", Map())
    mapping = check.mapping(value, "clinic.translations", value.keys() if isinstance(value, Map) else ())
    found: dict[str, dict[str, str]] = {}
    for other in mapping or {}:
        what = f"clinic.translations.{other}"
        if other not in languages:
            line, column = mapping.key_positions[other]
            check.error_at(line, column, f"{what}: {other!r} is not one of clinic.languages")
        fields = check.mapping(mapping[other], what, schema.CLINIC_TEXTS.names, schema.CLINIC_TEXTS.required)
        if fields is None:
            continue
        found[other] = {key: str(text) for key in fields if (text := check.text(fields, key, what)) is not None}
        if has_about and "about" not in fields:
            check.error(fields, f"{what}: missing 'about' (the clinic's blurb is printed in every language)")
    for other in languages:
        if other != language and other not in found:
            at = data.get("languages") if isinstance(data.get("languages"), Located) else data
            check.error(
                at,
                f"clinic.languages: {other!r} needs translations.{other}.disclaimer"
                f" (this file's texts are in {language!r})",
            )
    return found


def editions(check: Fields, data: Map, what: str) -> tuple[str, ...]:
    """``editions``: some of regular and large, no repeats."""
    found = []
    for value in texts(check, data["editions"], f"{what}.editions"):
        if str(value) not in EDITIONS:
            check.error(value, f"{what}.editions: {str(value)!r} is not one of: {', '.join(EDITIONS)}")
        elif str(value) not in found:
            found.append(str(value))
    if not found:
        check.error(data["editions"], f"{what}.editions: name at least one edition")
    return tuple(found)


def _clinic_logo(check: Fields, data: Map, folder: Path, limit: int) -> Path:
    value = check.text(data, "logo", "clinic", code="HL010")
    if value is None:
        return folder
    if "\x00" in value or value.startswith("/"):
        check.error(value, f"clinic.logo: {value!r} must be a file name inside the clinic's folder", "HL010")
        return folder
    logo = (folder / value).resolve()
    if not logo.is_relative_to(folder.resolve()):
        check.error(value, f"clinic.logo: {value!r} must be a file inside the clinic's folder", "HL010")
    elif logo.suffix.lower() not in IMAGE_MAGIC:
        check.error(value, f"clinic.logo: {value!r} must be an SVG, PNG or JPEG file", "HL010")
    elif not logo.exists():
        check.error(value, f"clinic.logo: file {value!r} not found in {folder.name}/", "HL010")
    else:
        try:
            data = read_bytes(folder / value, f"clinic.logo {value!r}", limit, folder)
        except ConfigError as error:
            check.error(value, f"clinic.logo: {value!r} {error.diagnostics[0].message}", "HL010")
        else:
            if not looks_like_image(logo.suffix, data):
                check.error(value, f"clinic.logo: {value!r} is not a valid {logo.suffix[1:].upper()} file", "HL010")
    return logo


def _clinic_contact(check: Fields, value: object) -> Contact:
    contact = check.mapping(value, "clinic.contact", schema.CONTACT.names, schema.CONTACT.required)
    if contact is None:
        return Contact(phone="", emergency="")
    patterns = {
        "phone": (PHONE, '"+1 555 0100"'),
        "emergency": (EMERGENCY, '"911", "999", "112" or "1669"'),
        "website": (WEBSITE, '"https://example.org"'),
        "email": (EMAIL, '"info@example.org"'),
    }
    found = {
        key: check.matching(contact, key, "clinic.contact", pattern, example, "HL304")
        for key, (pattern, example) in patterns.items()
        if key in contact or key in ("phone", "emergency")
    }
    address = check.text(contact, "address", "clinic.contact", required=False)
    return Contact(address=str(address or ""), **found)


# ---------------------------------------------------------------- everything


def load_all(
    project: Project, topics: Iterable[str] | None = None, clinics: Iterable[str] | None = None
) -> tuple[dict[str, Topic], dict[str, Clinic]]:
    """Load the given (or all) topics and clinics, collecting every error of every file."""
    problems: list[Diagnostic] = []
    loaded_topics: dict[str, Topic] = {}
    loaded_clinics: dict[str, Clinic] = {}
    for topic_id in topics if topics is not None else topic_ids(project):
        try:
            loaded_topics[topic_id] = load_topic(project, topic_id)
        except ConfigError as error:
            problems.extend(error.diagnostics)
    for clinic_id in clinics if clinics is not None else clinic_ids(project):
        try:
            loaded_clinics[clinic_id] = load_clinic(project, clinic_id)
        except ConfigError as error:
            problems.extend(error.diagnostics)
    if problems:
        raise ConfigError(diagnostics=problems)
    return loaded_topics, loaded_clinics
