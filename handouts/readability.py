"""Readability: reading grades of a handout's text, as it is printed at one level.

The formulas are the published ones (Flesch-Kincaid grade, Flesch reading ease,
SMOG), computed over words, sentences and syllables from :mod:`lexicon`; the
tests compare them with textstat, a second implementation. Nothing is
downloaded, and the syllable table loads in milliseconds.

What is measured: everything a reader of the level reads (:func:`passages`): the
title, the main message, every section, headings, red flags, the plan, figure alt
texts and captions, and the glossary definitions; each paragraph, list item and
short text ends a sentence (see :func:`markup.to_blocks`). The gated **grade** of
a text is the higher of Flesch-Kincaid and SMOG (no formula may say it is too
hard). SMOG is McLaughlin's formula with his normalisation to 30 sentences, which
is what his conversion table does for shorter texts.

Two word-level measures cannot be lowered by chopping sentences: the share of
words off the familiar-word list (Dale-Chall's 3,000 words, with their endings;
glossary terms, the title and synonyms count as familiar because the handout
explains them) and the share of long words (three syllables or more).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

from . import lexicon, markup
from .linebreaks import thai_words
from .models import Position, Text, Topic, base_language
from .views import printed_text


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
class Passage:
    """One printed piece of text: a paragraph, list item, heading, definition, caption, red flag ...

    ``unit`` names where it belongs (``sections.causes``, ``glossary``, ``headings`` ...);
    ``short`` marks a text that stands alone (a heading, a definition): it is also
    measured on its own, so one hard definition cannot hide among easy ones.
    """

    unit: str
    text: str
    position: Position
    short: bool = False


def _blocks(unit: str, text: Text, short: bool = False) -> list[Passage]:
    """The paragraphs and list items of a Markdown text, each at its own line."""
    at = text.position
    return [
        Passage(unit, block.text, Position(at.path, at.line + block.line_offset if at.line else 0), short)
        for block in markup.to_blocks(text.markdown)
    ]


def passages(topic: Topic, level: str) -> list[Passage]:
    """Everything of ``topic`` a reader of ``level`` reads, in print order."""
    title_at = topic.positions.get("title", Position(str(topic.path)))
    found = [Passage("title", topic.titles[level] + ".", title_at)]
    if level in topic.main_message:
        found += _blocks("main_message", topic.main_message[level], True)
    for flag in topic.red_flags.get(level, ()):
        sign = Text(f"{flag.sign.markdown.rstrip('.')}: {flag.why.markdown}", flag.sign.position)
        found += _blocks("red_flags", sign, True)
    for section_id, section in topic.sections.items():
        heading = topic.headings.get(section_id, Text(section.heading, Position("")))
        if heading.position.line:
            found += _blocks("headings", heading, True)
        found += _blocks(f"sections.{section_id}", section.for_level(level))
    for figure in topic.figures:
        if level in figure.levels:
            found += _blocks("figures", figure.alt[level], True)
            if level in figure.caption:
                found += _blocks("figures", figure.caption[level], True)
    for item in topic.my_plan.get(level, ()):
        found += _blocks("my_plan", item, True)
    printed = printed_text(topic, level)
    for term, meanings in topic.glossary.items():
        if level in meanings and markup.term_is_used(term, printed):
            found += _blocks("glossary", meanings[level], True)
    return found


def known_words(topic: Topic) -> frozenset[str]:
    """Words the handout itself explains or names: glossary terms, the title, synonyms."""
    names = [*topic.glossary, *topic.titles.values(), *topic.synonyms]
    return frozenset(word.lower() for name in names for word in lexicon.words(name))


@dataclass(frozen=True)
class WordShares:
    """How many words are unfamiliar or long, as percentages, with the unfamiliar ones (most frequent first)."""

    words: int
    unfamiliar_percent: float
    long_percent: float
    unfamiliar: tuple[str, ...]


def word_shares(texts: list[str], known: frozenset[str] = frozenset(), language: str = "en") -> WordShares:
    """The share of words off the familiar list and of words of three syllables or more (numbers left out)."""
    counted = unfamiliar = long = 0
    misses: dict[str, int] = {}
    for text in texts:
        for sentence in lexicon.sentences(text):
            for index, word in enumerate(lexicon.words(sentence)):
                if word[:1].isdigit():
                    continue
                counted += 1
                long += lexicon.syllables(word) >= 3
                proper = index > 0 and word[:1].isupper() and not word.isupper()  # a name, as Dale-Chall allows
                if not proper and not lexicon.is_familiar(word, known, language):
                    unfamiliar += 1
                    misses[word.lower()] = misses.get(word.lower(), 0) + 1
    if not counted:
        return WordShares(0, 0.0, 0.0, ())
    ranked = tuple(sorted(misses, key=lambda w: (-misses[w], w)))
    return WordShares(counted, 100 * unfamiliar / counted, 100 * long / counted, ranked)


@dataclass(frozen=True)
class LevelScores:
    """One topic at one level: the whole handout, each unit (section, glossary, headings ...) and word shares."""

    topic: str
    level: str
    whole: Scores
    sections: dict[str, Scores]
    shares: WordShares
    passages: tuple[Passage, ...]


def measure(topic: Topic, level: str) -> LevelScores:
    """Score everything a reader of ``level`` reads."""
    found = passages(topic, level)
    units: dict[str, list[str]] = {}
    for passage in found:
        units.setdefault(passage.unit, []).append(passage.text)
    everything = [passage.text for passage in found]
    return LevelScores(
        topic.id,
        level,
        score(everything),
        {unit: score(texts) for unit, texts in units.items()},
        word_shares(everything, known_words(topic), topic.language),
        tuple(found),
    )


def hardest_sentence(texts: list[Passage]) -> tuple[Passage, str, float] | None:
    """The passage and sentence with the highest Flesch-Kincaid grade among ``texts`` (None when there is none)."""
    best = None
    for passage in texts:
        for sentence in lexicon.sentences(passage.text):
            grade = score([sentence]).flesch_kincaid_grade
            if best is None or grade > best[2]:
                best = (passage, sentence, grade)
    return best


# ---------------------------------------------------------------- other languages
#
# An English formula's grade means nothing for another language, and is never printed for one.
# Spanish has formulas made for it: the Szigriszt-Pazos perspicuity index on the INFLESZ scale
# (0-100, higher is easier; 55-65 "normal", 65-80 "fairly easy"), from Spanish syllables. Thai
# has no validated formula in our reach: it is "not measured", and only the sentence-length rule
# applies, with words found by a Thai word segmenter (Thai writes no spaces between words; a space
# ends a phrase or sentence).

FORMULAS = {"es": "Szigriszt-Pazos (INFLESZ)"}
INFLESZ_BANDS = (
    (80, "very easy"),
    (65, "fairly easy"),
    (55, "normal"),
    (40, "somewhat hard"),
    (-math.inf, "very hard"),
)
_SPANISH_VOWEL_RUN = re.compile(r"[aeiouáéíóúü]+")
_STRONG = set("aeoáéóíú")  # an accented í or ú is strong: it breaks the diphthong ("día", "baúl")
_THAI = re.compile(r"[\u0E00-\u0E7F]")


def spanish_syllables(word: str) -> int:
    """Syllables of a Spanish word from its vowel groups: two strong vowels side by side are two
    syllables (hiatus, "le-er"); a weak vowel (i, u, ü) with another is one (diphthong, "bue-no")."""
    count = 0
    for run in _SPANISH_VOWEL_RUN.findall(word.lower()):
        count += 1 + sum(1 for a, b in itertools.pairwise(run) if a in _STRONG and b in _STRONG)
    return max(1, count)


def language_words(text: str, language: str) -> list[str]:
    """The words of ``text``: from the Thai word segmenter for Thai, else from the letters between spaces."""
    if base_language(language) == "th":
        return [token for token in thai_words(text) if lexicon.WORD.search(token)]
    return lexicon.words(text)


def language_sentences(text: str, language: str) -> list[str]:
    """The sentences of ``text``: Thai ends one with a space, other languages with . ! ? (and ¿ ¡ open one)."""
    if base_language(language) == "th":
        return [part for part in re.split(r"\s+", text) if _THAI.search(part) or lexicon.words(part)]
    return lexicon.sentences(text)


@dataclass(frozen=True)
class LanguageScores:
    """One translated topic at one level: the language's own formula (when it has one) and sentence lengths."""

    topic: str
    level: str
    language: str
    formula: str  # "" when the language has no validated formula here: not measured
    score: float | None
    words: int
    sentences: int
    passages: tuple[Passage, ...]

    @property
    def words_per_sentence(self) -> float:
        """Mean words per sentence."""
        return self.words / self.sentences if self.sentences else 0.0

    @property
    def band(self) -> str:
        """The score's INFLESZ band ("fairly easy"), or "not measured"."""
        if self.score is None:
            return "not measured"
        return next(name for floor, name in INFLESZ_BANDS if self.score >= floor)


def inflesz(texts: list[str]) -> tuple[float | None, int, int]:
    """The Szigriszt-Pazos index of Spanish ``texts``: 206.835 - 62.3 syllables/word - words/sentence."""
    sentence_count = word_count = syllable_count = 0
    for text in texts:
        for sentence in lexicon.sentences(text):
            found = [word for word in lexicon.words(sentence) if not word[:1].isdigit()]
            sentence_count += 1
            word_count += len(found)
            syllable_count += sum(spanish_syllables(word) for word in found)
    if not word_count:
        return None, 0, sentence_count
    return 206.835 - 62.3 * syllable_count / word_count - word_count / sentence_count, word_count, sentence_count


def measure_language(topic: Topic, level: str) -> LanguageScores:
    """Score a translated topic at ``level`` with its language's own formula (or none)."""
    found = passages(topic, level)
    texts = [passage.text for passage in found]
    language = base_language(topic.language)
    if language == "es":
        score_value, word_count, sentence_count = inflesz(texts)
    else:
        score_value = None
        sentence_list = [s for text in texts for s in language_sentences(text, topic.language)]
        sentence_count = len(sentence_list)
        word_count = sum(len(language_words(s, topic.language)) for s in sentence_list)
    return LanguageScores(
        topic.id,
        level,
        topic.language,
        FORMULAS.get(language, ""),
        score_value,
        word_count,
        sentence_count,
        tuple(found),
    )
