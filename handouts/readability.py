"""Readability: reading grades of a handout's text, as it is printed at one level.

The formulas are the published ones (Flesch-Kincaid grade, Flesch reading ease,
SMOG), computed over words, sentences and syllables from :mod:`lexicon`; the
tests compare them with textstat, a second implementation. Nothing is
downloaded, and the syllable table loads in milliseconds.

What is measured: every section's text at the level (headings left out), each
paragraph and list item ending a sentence (see :func:`markup.to_blocks`). The
gated **grade** of a whole handout is the higher of Flesch-Kincaid and SMOG (no
formula may say it is too hard). SMOG is McLaughlin's formula with his
normalisation to 30 sentences, which is what his conversion table does for
shorter texts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import lexicon, markup
from .models import Topic


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


EMPTY = Scores(0.0, 0.0, 0.0, 0.0, 0, 0)


def score(texts: list[str]) -> Scores:
    """Scores of ``texts`` (paragraphs or list items), each split further into sentences."""
    sentence_count = word_count = syllable_count = polysyllables = 0
    for text in texts:
        for sentence in lexicon.sentences(text):
            counts = [lexicon.syllables(word) for word in lexicon.words(sentence)]
            sentence_count += 1
            word_count += len(counts)
            syllable_count += sum(counts)
            polysyllables += sum(1 for count in counts if count >= 3)
    if not word_count:
        return EMPTY
    per_sentence = word_count / sentence_count
    per_word = syllable_count / word_count
    return Scores(
        flesch_kincaid_grade=0.39 * per_sentence + 11.8 * per_word - 15.59,
        smog_index=1.043 * math.sqrt(polysyllables * 30 / sentence_count) + 3.1291,
        flesch_reading_ease=206.835 - 1.015 * per_sentence - 84.6 * per_word,
        words_per_sentence=per_sentence,
        sentences=sentence_count,
        words=word_count,
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
        texts = [block.text for block in markup.to_blocks(section.for_level(level).markdown)]
        per_section[section_id] = score(texts)
        everything.extend(texts)
    return LevelScores(topic.id, level, score(everything), per_section)
