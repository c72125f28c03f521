"""Topic files: ``content/<topic>.yaml`` → a validated :class:`~handouts.models.Topic`.

Most values may be written once for every level or once per level (a mapping
whose keys are level ids). Every text a reader will read keeps its position, so
that ``check`` can point at the line of a hard sentence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from . import schema
from .errors import ConfigError, UsageError
from .fields import LANGUAGE, WEBSITE, Fields, check_id, did_you_mean, key_positions, position_of, texts
from .inputs import IMAGE_MAGIC, looks_like_image, read_bytes
from .models import (
    ALL_SECTIONS,
    DEFAULT_HEADINGS,
    STATUSES,
    Figure,
    Position,
    Project,
    RedFlag,
    Review,
    Section,
    Source,
    Text,
    Topic,
)
from .yamlstrict import Located, Map, Seq, Str, read_yaml

T = TypeVar("T")


def load_topic(project: Project, topic_id: str) -> Topic:
    """Read and validate ``content/<topic_id>.yaml``."""
    check_id("topic", topic_id)
    path = project.content_dir / f"{topic_id}.yaml"
    if not path.exists() and not path.is_symlink():
        known = sorted(p.stem for p in project.content_dir.glob("*.yaml"))
        raise UsageError(
            f"no topic {topic_id!r} in {project.relative(project.content_dir)}/{did_you_mean(topic_id, known)}"
        )
    shown_as = project.relative(path)
    check = Fields(shown_as)
    data = read_yaml(path, shown_as, project.limits.topic, project.content_dir)
    check.mapping(data, "topic", schema.TOPIC.names, schema.TOPIC.required)
    levels = list(project.levels)
    status = _status(check, data)
    headings = _load_headings(check, data.get("headings", Map()))
    sections = _load_sections(check, data.get("sections"), levels, headings)
    topic = Topic(
        id=topic_id,
        path=path,
        titles={level: str(text.markdown) for level, text in _per_level_text(check, data, "title", levels).items()},
        language=check.matching(data, "language", "topic", LANGUAGE, '"en" or "th"'),
        status=status,
        updated=check.date(data, "updated", "topic") or dt.date(1970, 1, 1),
        next_review=check.date(data, "next_review", "topic") if "next_review" in data else None,
        review=_load_review(check, data, status),
        sources=_load_sources(check, data.get("sources", Seq())),
        glossary=_load_glossary(check, data.get("glossary", Map()), levels),
        sections=sections,
        synonyms=tuple(str(s) for s in texts(check, data["synonyms"], "topic.synonyms")) if "synonyms" in data else (),
        main_message=_per_level_text(check, data, "main_message", levels, markdown=True),
        red_flags=_per_level_list(check, data.get("red_flags", Seq()), "topic.red_flags", levels, _red_flag),
        figures=_load_figures(check, data.get("figures", Seq()), project, topic_id, levels, sections),
        my_plan=_per_level_list(check, data.get("my_plan", Seq()), "topic.my_plan", levels, _plan_item),
        headings={key: text for key, text in headings.items() if text.position.line},
        positions=key_positions(data, shown_as, ("glossary", "sections")),
    )
    check.raise_if_any()
    return topic


# ---------------------------------------------------------------- provenance


def _status(check: Fields, data: Map) -> str:
    status = check.text(data, "status", "topic")
    if status is not None and status not in STATUSES:
        check.error(status, f"topic.status: {status!r} is not one of: {', '.join(STATUSES)}")
    return str(status or "draft")


def _load_review(check: Fields, data: Map, status: str) -> Review | None:
    """The review that happened: required when ``reviewed``, refused on a draft (never print an untrue claim)."""
    value = data.get("review")
    if status != "reviewed":
        if value is not None:
            check.error(value, "topic.review: a draft has no review; set status: reviewed once the review happened")
        return None
    if value is None:
        check.error(data.get("status"), "topic.status: reviewed needs a review: {reviewer, credentials, date}")
        return None
    review = check.mapping(value, "topic.review", schema.REVIEW.names, schema.REVIEW.required)
    if review is None:
        return None
    date = check.date(review, "date", "topic.review")
    if date and date > dt.date.today():
        check.error(review.get("date"), f"topic.review.date: {date} is in the future; a review must have happened")
    return Review(
        str(check.text(review, "reviewer", "topic.review") or ""),
        str(check.text(review, "credentials", "topic.review") or ""),
        date or dt.date(1970, 1, 1),
    )


def _items(check: Fields, value: object, key: str, keys: schema.Mapping) -> Iterator[tuple[str, Map]]:
    """``(what, mapping)`` for each entry of the list ``topic.<key>`` that is a mapping with ``keys``."""
    if not isinstance(value, Seq):
        check.error(value if isinstance(value, Located) else None, f"topic.{key}: expected a list")
        return
    for index, raw in enumerate(value):
        what = f"topic.{key}[{index}]"
        item = check.mapping(raw, what, keys.names, keys.required)
        if item is not None:
            yield what, item


def _load_sources(check: Fields, value: object) -> tuple[Source, ...]:
    sources = []
    for what, item in _items(check, value, "sources", schema.SOURCE):
        title = check.text(item, "title", what)
        site = check.text(item, "site", what, required=False)
        url = (
            check.matching(item, "url", what, WEBSITE, '"https://medlineplus.gov/..."', "HL013")
            if "url" in item
            else ""
        )
        sources.append(Source(str(title or ""), url, str(site or "")))
    return tuple(sources)


# ---------------------------------------------------------------- per-level values


def _is_per_level(value: object, levels: list[str]) -> bool:
    """A mapping keyed by level ids (rather than one value for every level)."""
    return isinstance(value, Map) and bool(value) and all(key in levels for key in value)


def _per_level_text(check: Fields, data: Map, key: str, levels: list[str], markdown: bool = False) -> dict[str, Text]:
    """``data[key]``: one text for every level, or a mapping with one per level (HL004 if one is missing)."""
    what = f"topic.{key}"
    value = data.get(key)
    if value is None:
        return {}
    if isinstance(value, Map):
        check.mapping(value, what, levels)
        found = {}
        for level in levels:
            if level not in value:
                check.error(
                    value, f"{what}: no text for level {level!r} (give every level, or one text for all)", "HL004"
                )
            elif (text := check.text(value, level, what)) is not None:
                found[level] = (
                    check.markdown(text, f"{what}.{level}") if markdown else Text(str(text), position_of(text))
                )
        return found
    text = check.text(data, key, "topic")
    if text is None:
        return {}
    made = check.markdown(text, what) if markdown else Text(str(text), position_of(text))
    return dict.fromkeys(levels, made)


def _level_texts(check: Fields, value: object, what: str, levels: list[str]) -> dict[str, Text]:
    """A value that is one text, or one text per level."""
    if not isinstance(value, Map):
        if not isinstance(value, Str) or not value.strip():
            check.error(value if isinstance(value, Located) else None, f"{what}: expected a text, or one per level")
            return {}
        return dict.fromkeys(levels, Text(str(value), position_of(value)))
    check.mapping(value, what, levels, levels)
    found = {}
    for level in levels:
        text = check.text(value, level, what) if level in value else None
        if text is not None:
            found[level] = Text(str(text), position_of(text))
    return found


def _per_level_list(
    check: Fields, value: object, what: str, levels: list[str], make: Callable[[Fields, object, str], T | None]
) -> dict[str, tuple[T, ...]]:
    """One list for every level, or a mapping with a list per level; ``make`` reads each item."""
    if _is_per_level(value, levels):
        assert isinstance(value, Map)
        check.mapping(value, what, levels, levels)
        lists = {level: value[level] for level in levels if level in value}
    else:
        lists = dict.fromkeys(levels, value)
    made: dict[str, tuple[T, ...]] = {}
    for level, items in lists.items():
        where = what if len(set(map(id, lists.values()))) == 1 else f"{what}.{level}"
        if not isinstance(items, Seq):
            check.error(items if isinstance(items, Located) else None, f"{where}: expected a list")
            continue
        made[level] = tuple(item for i, raw in enumerate(items) if (item := make(check, raw, f"{where}[{i}]")))
    return made


def _red_flag(check: Fields, raw: object, what: str) -> RedFlag | None:
    item = check.mapping(raw, what, schema.RED_FLAG.names, schema.RED_FLAG.required)
    if item is None:
        return None
    sign, why = check.text(item, "sign", what), check.text(item, "why", what)
    if sign is None or why is None:
        return None
    return RedFlag(check.markdown(sign, f"{what}.sign"), check.markdown(why, f"{what}.why"))


def _plan_item(check: Fields, raw: object, what: str) -> Text | None:
    if not isinstance(raw, Str) or not raw.strip():
        check.error(raw if isinstance(raw, Located) else None, f"{what}: expected a text")
        return None
    return check.markdown(raw, what)


# ---------------------------------------------------------------- glossary, headings, figures


def _load_glossary(check: Fields, value: object, levels: list[str]) -> dict[str, dict[str, Text]]:
    mapping = check.mapping(value, "topic.glossary", value.keys() if isinstance(value, Map) else ())
    if mapping is None:
        return {}
    return {term: _level_texts(check, mapping[term], f"topic.glossary.{term}", levels) for term in mapping}


def _load_headings(check: Fields, value: object) -> dict[str, Text]:
    mapping = check.mapping(value, "topic.headings", ALL_SECTIONS)
    headings = {key: Text(text, Position("")) for key, text in DEFAULT_HEADINGS.items()}
    if mapping is None:
        return headings
    for key in mapping:
        if key in headings and (text := check.text(mapping, key, "topic.headings")) is not None:
            headings[key] = Text(str(text), position_of(text))
    return headings


def _load_figures(
    check: Fields, value: object, project: Project, topic_id: str, levels: list[str], sections: dict[str, Section]
) -> tuple[Figure, ...]:
    figures = []
    for what, item in _items(check, value, "figures", schema.FIGURE):
        path = _figure_file(check, item, what, project, topic_id)
        section = check.text(item, "section", what)
        if section is not None and section not in sections:
            check.error(section, f"{what}.section: {section!r} is not a section of this topic")
        shown = levels
        if "levels" in item:
            shown = [str(level) for level in texts(check, item["levels"], f"{what}.levels")]
            for level in shown:
                if level not in levels:
                    check.error(item["levels"], f"{what}.levels: {level!r} is not a level")
        alt = _level_texts(check, item.get("alt"), f"{what}.alt", levels)
        caption = _level_texts(check, item["caption"], f"{what}.caption", levels) if "caption" in item else {}
        if path is not None and section is not None:
            figures.append(Figure(path, str(section), alt, caption, tuple(shown)))
    return tuple(figures)


def _figure_file(check: Fields, item: Map, what: str, project: Project, topic_id: str) -> Path | None:
    """The figure's file in ``content/<topic>/``: a regular SVG, PNG or JPEG within the image limit."""
    name = check.text(item, "file", what)
    if name is None:
        return None
    folder = project.content_dir / topic_id
    suffix = Path(name).suffix.lower()
    if "\x00" in name or "/" in name or "\\" in name or name.startswith(".") or suffix not in IMAGE_MAGIC:
        check.error(name, f"{what}.file: {name!r} must be an SVG, PNG or JPEG file name in {project.relative(folder)}/")
        return None
    try:
        data = read_bytes(folder / name, project.relative(folder / name), project.limits.image, folder)
    except ConfigError as error:
        check.error(name, f"{what}.file: {project.relative(folder / name)} {error.diagnostics[0].message}")
        return None
    if not looks_like_image(suffix, data):
        check.error(name, f"{what}.file: {name!r} is not a valid {suffix[1:].upper()} file")
    return folder / name


# ---------------------------------------------------------------- sections


def _load_sections(check: Fields, value: object, levels: list[str], headings: dict[str, Text]) -> dict[str, Section]:
    mapping = check.mapping(value, "topic.sections", schema.SECTIONS.names, schema.SECTIONS.required)
    if mapping is None:
        return {}
    sections = {}
    for section_id in ALL_SECTIONS:
        if section_id not in mapping:
            continue
        what = f"sections.{section_id}"
        texts_by_level = _section_texts(check, mapping, section_id, what, levels)
        sections[section_id] = Section(section_id, headings[section_id].markdown, texts_by_level)
    return sections


def _section_texts(check: Fields, sections: Map, section_id: str, what: str, levels: list[str]) -> dict[str, Text]:
    value = sections[section_id]
    if isinstance(value, Str):
        if not check.text(sections, section_id, "topic.sections"):
            return {}
        text = check.markdown(value, what)
        return dict.fromkeys(levels, text)
    per_level = check.mapping(value, what, levels)
    if per_level is None:
        return {}
    found = {}
    for level in levels:
        if level not in per_level:
            check.error(
                per_level, f"{what}: no text for level {level!r} (give every level, or one text for all)", "HL004"
            )
            continue
        text = check.text(per_level, level, what)
        if text is not None:
            found[level] = check.markdown(text, f"{what}.{level}")
    return found
