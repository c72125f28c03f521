"""Views: one topic × clinic × level → what a template prints (a :class:`Handout`).

Everything a template needs is computed here, already safe: Markdown is turned
into HTML by :mod:`markup` (raw HTML refused at load time) and wrapped in
:class:`markupsafe.Markup`; every other value is plain text that Jinja escapes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from babel.dates import format_date
from markupsafe import Markup

from . import markup
from .errors import UsageError
from .models import BODY_ORDER, Clinic, Figure, Level, Project, Review, Topic, Translation, base_language

NO_FULL_STOP = frozenset({"th", "lo", "km", "my"})  # scripts whose sentences end without a full stop


@dataclass(frozen=True)
class FigureView:
    """A picture as printed: its file (as a URL), alt text and caption."""

    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class SectionView:
    """A section as printed: its heading, its HTML (already safe) and the pictures after it."""

    id: str
    heading: str
    html: Markup
    figures: tuple[FigureView, ...] = ()


@dataclass(frozen=True)
class GlossaryEntry:
    """One “Words to know” entry."""

    term: str
    meaning: str


@dataclass(frozen=True)
class RedFlagView:
    """A sign that needs help now, and why (inline HTML, already safe)."""

    sign: Markup
    why: Markup


@dataclass(frozen=True)
class Handout:
    """Everything printed on one handout, and nothing else."""

    topic: Topic
    clinic: Clinic
    level: Level
    title: str
    language: str
    key_points: SectionView | None
    when_to_get_help: SectionView | None
    body: tuple[SectionView, ...]
    glossary: tuple[GlossaryEntry, ...]
    updated: dt.date
    main_message: Markup = field(default_factory=Markup)
    red_flags: tuple[RedFlagView, ...] = ()
    my_plan: tuple[Markup, ...] = ()
    level_label: str = ""  # the level's label in the handout's language
    edition: str = "regular"  # regular | large (large print)

    @property
    def full_stop(self) -> str:
        """What ends a sentence the template completes: "." (Thai writes none: a space ends a sentence)."""
        return "" if base_language(self.language) in NO_FULL_STOP else "."

    @property
    def document_title(self) -> str:
        """The PDF's title: the topic's title and the level's label."""
        return f"{self.title} ({self.level_label or self.level.label})"

    @property
    def is_draft(self) -> bool:
        """Not medically reviewed (the text, or its translation): printed on every page."""
        return self.topic.is_draft

    @property
    def draft_kind(self) -> str:
        """What the draft mark says: ``text`` (not medically reviewed), ``translation`` (the translation
        not reviewed) or '' (neither)."""
        if self.topic.status != "reviewed":
            return "text"
        return "translation" if self.topic.is_draft else ""

    @property
    def translation(self) -> Translation | None:
        """The translation's own status (None for the source language)."""
        return self.topic.translation

    @property
    def translation_review_text(self) -> str:
        """The translation's review date as printed ('' when not reviewed)."""
        review = self.translation.review if self.translation else None
        return long_date(review.date, self.language) if review else ""

    @property
    def review(self) -> Review | None:
        """The review that happened (None for a draft)."""
        return self.topic.review

    @property
    def updated_text(self) -> str:
        """The date the text last changed, as printed."""
        return long_date(self.updated, self.language)

    @property
    def review_text(self) -> str:
        """The review date as printed ('' for a draft)."""
        return long_date(self.topic.review.date, self.language) if self.topic.review else ""

    @property
    def next_review_text(self) -> str:
        """The next review date as printed ('' when none is set)."""
        return long_date(self.topic.next_review, self.language) if self.topic.next_review else ""


def long_date(date: dt.date, language: str = "en") -> str:
    """The day, month name and year: "1 November 2026" in English (unambiguous in every country our
    clinics are in), the locale's long form in other languages ("1 de noviembre de 2026")."""
    if base_language(language) != "en":
        with contextlib.suppress(ValueError, LookupError):  # a language Babel does not know: the English form
            return format_date(date, "long", locale=language.replace("-", "_"))
    return f"{date.day} {date:%B %Y}"


@dataclass(frozen=True)
class Personal:
    """A personalised copy's patient data. It is printed on the page and goes nowhere else:
    never into file names, PDF metadata, the manifest, logs or caches."""

    MAX_NAME: ClassVar[int] = 100
    MAX_NOTE: ClassVar[int] = 1000  # there is room on page 1 only

    name: str
    note: str = ""
    date: dt.date | None = None
    language: str = "en"

    @classmethod
    def checked(cls, name: str, note: str, date: str, labels: tuple[str, str, str]) -> Personal:
        """The patient fields as typed, validated; ``labels`` name the three fields in messages (the
        command line's options, the form's labels), which never repeat what was typed."""
        name_label, note_label, date_label = labels
        if not name.strip() or len(name) > cls.MAX_NAME:
            raise UsageError(f"{name_label}: give a name of 1 to {cls.MAX_NAME} characters")
        if len(note) > cls.MAX_NOTE:
            raise UsageError(f"{note_label}: keep it under {cls.MAX_NOTE} characters (there is room on page 1 only)")
        try:
            when = dt.date.fromisoformat(date) if date else None
        except ValueError:
            raise UsageError(f"{date_label}: expected a date like 2026-11-21") from None
        return cls(name.strip(), note.strip(), when)

    @property
    def date_text(self) -> str:
        """The date as printed, or nothing."""
        return long_date(self.date, self.language) if self.date else ""


@dataclass(frozen=True)
class Packet:
    """Several topics for one clinic at one level, printed as one document."""

    clinic: Clinic
    level: Level
    handouts: tuple[Handout, ...]
    heading: str = "Patient information packet: {titles}"  # in the packet's language

    @property
    def language(self) -> str:
        """The packet's language: its first handout's."""
        return self.handouts[0].language

    @property
    def edition(self) -> str:
        """regular or large (large print): its handouts'."""
        return self.handouts[0].edition

    @property
    def document_title(self) -> str:
        """The PDF's title: every topic's title and the level's label."""
        titles = ", ".join(handout.title for handout in self.handouts)
        label = self.handouts[0].level_label or self.level.label
        return f"{self.heading.format(titles=titles)} ({label})"

    @property
    def updated(self) -> dt.date:
        """The latest date any of its topics changed."""
        return max(handout.updated for handout in self.handouts)

    @property
    def is_draft(self) -> bool:
        """Any of its topics not medically reviewed."""
        return any(handout.is_draft for handout in self.handouts)

    @property
    def draft_kind(self) -> str:
        """The draft mark of the packet: the strongest of its handouts' (see :attr:`Handout.draft_kind`)."""
        kinds = {handout.draft_kind for handout in self.handouts}
        return "text" if "text" in kinds else "translation" if "translation" in kinds else ""


def handout_view(
    project: Project,
    topic: Topic,
    clinic: Clinic,
    level_id: str,
    gettext: Callable[[str], str] = str,
    edition: str = "regular",
) -> Handout:
    """Pick the level's texts, render them, and keep the glossary terms that are used; ``gettext``
    gives the level's label in the topic's language."""
    level = project.levels[level_id]
    figures = [figure for figure in topic.figures if level_id in figure.levels]
    views = {
        section_id: SectionView(
            section_id,
            section.heading,
            Markup(markup.to_html(section.for_level(level_id).markdown)),
            tuple(_figure_view(f, level_id) for f in figures if f.section == section_id),
        )
        for section_id, section in topic.sections.items()
    }
    main = topic.main_message.get(level_id)
    return Handout(
        topic=topic,
        clinic=clinic,
        level=level,
        title=topic.titles[level_id],
        language=topic.language,
        key_points=views.get("key_points"),
        when_to_get_help=views.get("when_to_get_help"),
        body=tuple(views[section_id] for section_id in BODY_ORDER if section_id in views),
        glossary=_used_glossary(topic, level_id),
        updated=topic.updated,
        main_message=Markup(markup.inline_html(main.markdown)) if main else Markup(),
        red_flags=tuple(
            RedFlagView(Markup(markup.inline_html(f.sign.markdown)), Markup(markup.inline_html(f.why.markdown)))
            for f in topic.red_flags.get(level_id, ())
        ),
        my_plan=tuple(Markup(markup.inline_html(item.markdown)) for item in topic.my_plan.get(level_id, ())),
        level_label=gettext(level.label),
        edition=edition,
    )


def printed_text(topic: Topic, level_id: str) -> str:
    """Everything of the topic a reader of ``level_id`` reads (to find which glossary terms are used)."""
    parts = [section.for_level(level_id).markdown for section in topic.sections.values()]
    if level_id in topic.main_message:
        parts.append(topic.main_message[level_id].markdown)
    parts += [f"{flag.sign.markdown} {flag.why.markdown}" for flag in topic.red_flags.get(level_id, ())]
    parts += [item.markdown for item in topic.my_plan.get(level_id, ())]
    for figure in topic.figures:
        if level_id in figure.levels:
            parts += [text.markdown for text in (figure.alt.get(level_id), figure.caption.get(level_id)) if text]
    return "\n".join(parts)


def _figure_view(figure: Figure, level_id: str) -> FigureView:
    caption = figure.caption.get(level_id)
    return FigureView(figure.path.as_uri(), figure.alt[level_id].markdown, caption.markdown if caption else "")


def _used_glossary(topic: Topic, level_id: str) -> tuple[GlossaryEntry, ...]:
    text = printed_text(topic, level_id)
    entries = [
        GlossaryEntry(term, meanings[level_id].markdown)
        for term, meanings in topic.glossary.items()
        if level_id in meanings and markup.term_is_used(term, text)
    ]
    return tuple(sorted(entries, key=lambda entry: entry.term.lower()))
