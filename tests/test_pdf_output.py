"""The sample handouts, read back from real PDF bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from handouts import loading
from handouts.manifest import MANIFEST

from .pdfcheck import extract_text, read_facts
from .samples import CASES, SAMPLE


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_sample_is_built(built_samples: Path) -> None:
    manifest = json.loads((built_samples / MANIFEST).read_text())
    wanted = {
        f"{clinic_id}/{topic_id}.{level}.{language}{'' if edition == 'regular' else '.large'}.pdf"
        for clinic_id, topic_id, level in CASES
        for language in loading.load_clinic(SAMPLE, clinic_id).printed_languages
        for edition in SAMPLE.editions
    }
    assert {entry["path"] for entry in manifest["outputs"]} == wanted
    assert len(wanted) == len(CASES) * 2 * 2 >= 48  # each clinic prints two languages, regular and large
    for entry in manifest["outputs"]:
        assert (built_samples / entry["path"]).is_file()


@pytest.mark.parametrize(("clinic_id", "topic_id", "level"), CASES)
def test_sample_pdf(built_samples: Path, clinic_id: str, topic_id: str, level: str) -> None:
    topic = loading.load_topic(SAMPLE, topic_id)
    clinic = loading.load_clinic(SAMPLE, clinic_id)
    data = (built_samples / clinic_id / f"{topic_id}.{level}.{topic.language}.pdf").read_bytes()
    facts = read_facts(data)
    text = flat(extract_text(data))

    assert 1 <= facts.pages <= 8
    assert facts.title == f"{topic.titles[level]} ({SAMPLE.levels[level].label})"
    assert facts.author == clinic.name
    assert facts.language == topic.language
    assert facts.tagged and facts.display_doc_title
    assert facts.embedded_fonts and not facts.unembedded_fonts
    assert all(name.startswith("Atkinson-Hyperlegible") for name in facts.embedded_fonts)

    assert topic.titles[level] in text
    for section in topic.sections.values():
        if section.id == "key_points" and level in topic.main_message:
            continue  # printed under the main message, in its box
        if section.id == "questions_to_ask" and SAMPLE.levels[level].plain_language and topic.my_plan:
            continue  # in plain language the questions are more boxes to tick in the plan, without a heading
        assert flat(section.heading) in text, section.heading
    assert clinic.name in text
    assert clinic.contact.phone in text
    assert f"Page {facts.pages} of {facts.pages}" in text
    assert flat(clinic.disclaimer) in text


def test_paper_sizes_follow_the_clinic(built_samples: Path) -> None:
    from pypdf import PdfReader

    sizes = {"letter": (612, 792), "a4": (595, 842)}
    for clinic_id in loading.clinic_ids(SAMPLE):
        clinic = loading.load_clinic(SAMPLE, clinic_id)
        for path in (built_samples / clinic_id).glob("*.pdf"):
            box = PdfReader(path).pages[0].mediabox
            assert (round(float(box.width)), round(float(box.height))) == sizes[clinic.paper], path
