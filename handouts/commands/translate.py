"""``handouts translate update|status``: keep each topic's PO files in step with its English text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import loading, translations
from ..errors import HandoutsError, UsageError
from ..fields import LANGUAGE
from ..models import Project, base_language
from ..outfolder import write_atomic


def _languages(project: Project, topic_ids: list[str], wanted: Iterable[str]) -> list[str]:
    """The languages asked for, else every language that has a PO file or that a clinic prints."""
    chosen = list(wanted)
    for language in chosen:
        if not LANGUAGE.fullmatch(language):
            raise UsageError(f"--lang {language!r}: expected a language code such as es, th or pt-BR")
    if chosen:
        return chosen
    found = {language for topic in topic_ids for language in translations.available_languages(project, topic)}
    for clinic_id in loading.clinic_ids(project):
        try:
            found.update(loading.load_clinic(project, clinic_id).languages)
        except HandoutsError:  # a broken clinic is reported by check, not here
            continue
    return sorted(found)


def run_update(
    project: Project, topics: Iterable[str] = (), languages: Iterable[str] = ()
) -> list[translations.UpdateResult]:
    """Create or merge ``content/translations/<lang>/<topic>.po`` for each topic and language, and
    ``templates/locale/<lang>.po`` (the templates' own words) for each language."""
    topic_ids = loading.select_ids("topic", list(topics) or None, loading.topic_ids(project))
    chosen = _languages(project, topic_ids, languages)
    if not chosen:
        raise UsageError("no language to update: name one with --lang (for example --lang es)")
    results = []
    for language in chosen:
        if base_language(language) != "en":
            po, result = translations.update_ui(project, language)
            write_atomic(translations.ui_catalog_path(project, language), translations.po_text(po).encode())
            results.append(result)
    for topic_id in topic_ids:
        topic = loading.load_topic(project, topic_id)
        for language in chosen:
            if language == topic.language:
                continue  # the source language is not translated
            po, result = translations.update(project, topic, language)
            path = translations.catalog_path(project, topic_id, language)
            write_atomic(path, translations.po_text(po).encode())
            results.append(result)
    return results


@dataclass(frozen=True)
class StatusRow:
    """One topic × language × level: how many of the units it prints are usable."""

    topic: str
    language: str
    level: str
    translated: int
    fuzzy: int
    stale: int
    missing: int
    status: str  # the translation's own review status: draft | reviewed | none

    @property
    def complete(self) -> bool:
        """Every unit translated and current: the handout can be built."""
        return not (self.fuzzy or self.stale or self.missing)

    def as_dict(self) -> dict:
        """The JSON shape of one row."""
        return {**vars(self), "complete": self.complete}


def run_status(project: Project, topics: Iterable[str] = (), languages: Iterable[str] = ()) -> list[StatusRow]:
    """Per topic × language × level: translated, fuzzy, stale and missing units."""
    topic_ids = loading.select_ids("topic", list(topics) or None, loading.topic_ids(project))
    chosen = _languages(project, topic_ids, languages)
    rows = []
    for topic_id in topic_ids:
        topic = loading.load_topic(project, topic_id)
        topic_units = translations.units(topic, project.levels)
        for language in chosen:
            if language == topic.language:
                continue
            catalog = translations.read_catalog(project, topic_id, language)
            states = translations.states(topic_units, catalog)
            status = catalog.translation.status if catalog.translation else "none"
            for level in project.levels:
                mine = [  # an unsafe translation (raw HTML) needs the translator like a fuzzy one
                    "fuzzy" if state.state == "unsafe" else state.state
                    for state in states
                    if level in state.unit.levels
                ]
                counts = {kind: mine.count(kind) for kind in ("translated", "fuzzy", "stale", "missing")}
                rows.append(StatusRow(topic_id, language, level, **counts, status=status))
    return rows
