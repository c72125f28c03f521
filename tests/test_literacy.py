"""Handouts a patient can understand and act on: a gate that cannot be fooled, safety on page 1,
pictures and steps, short enough to read, and provenance that is true."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from handouts import loading, markup, readability

from .helpers import GOOD_TOPIC, line_of, run_cli, write_topic
from .samples import CASES, SAMPLE

TOPIC_FILE = "content/test-topic.yaml"
# A verbatim sentence of the endplate seed article (grade 13), and the same chopped into five.
SEED = (
    "This membrane allows for the diffusion of essential nutrients and waste products between the blood"
    " vessels in the bone marrow and the disc cells, which lack a direct blood supply."
)
CHOPPED = (
    "This membrane allows diffusion. It carries essential nutrients. It carries waste products too."
    " They pass between blood vessels in the bone marrow and disc cells. Disc cells lack a direct blood supply."
)


def findings(project: Path, capsys, *argv: str) -> list[dict]:
    code, out, _ = run_cli(capsys, "check", "--format", "json", *argv)
    assert code in (0, 1)
    return json.loads(out)["findings"]


def easy_text(text: str) -> str:
    """GOOD_TOPIC with ``text`` as its easy treatment section."""
    return GOOD_TOPIC.replace(
        "    easy: |\n      Rest.\n", "    easy: |\n" + "".join(f"      {line}\n" for line in text.splitlines())
    )


# ---------------------------------------------------------------- the gate cannot be fooled


def test_a_chopped_seed_sentence_is_refused_at_easy_hl104(project_dir: Path, capsys) -> None:
    assert readability.score([SEED]).grade > 12
    assert readability.score([CHOPPED]).flesch_kincaid_grade < 6  # chopping fools the sentence formulas ...
    text = easy_text(CHOPPED)
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL104"]
    assert found and found[0]["severity"] == "error"  # ... not the share of unfamiliar words
    assert found[0]["line"] == line_of(text, "This membrane")
    assert "diffusion" in found[0]["message"]


def test_a_long_sentence_in_a_simple_paragraph_and_in_bullets_without_stops_hl201(project_dir: Path, capsys) -> None:
    long_sentence = " ".join(["We rest and we walk"] * 6)  # 30 words, no hard word
    text = easy_text(f"Rest. {long_sentence}. Walk.\n\n- Rest a lot\n- {long_sentence}\n- Walk a bit")
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL201"]
    assert {f["line"] for f in found} == {line_of(text, "Rest. We"), line_of(text, f"- {long_sentence}")}
    assert all(f["severity"] == "error" and "30-word sentence" in f["message"] for f in found)
    write_topic(
        project_dir,
        text.replace("    standard: |\n      Rest and drink water.", f"    standard: |\n      {long_sentence}."),
    )
    standard = [f for f in findings(project_dir, capsys, "test-topic", "--level", "standard") if f["code"] == "HL201"]
    assert standard and all(f["severity"] == "warning" for f in standard)  # severity is per level


HARD = "Pathophysiological remodelling of subchondral trabecular architecture secondary to biomechanical overload."


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("glossary", f'glossary:\n  test: "{HARD}"\n'),
        ("headings", f'headings:\n  causes: "{HARD}"\n'),
        ("red_flags", None),
    ],
)
def test_every_printed_short_text_is_measured_hl102(project_dir: Path, capsys, where: str, extra: str | None) -> None:
    text = GOOD_TOPIC + extra if extra else GOOD_TOPIC.replace('why: "fire spreads"', f'why: "{HARD}"')
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL102"]
    line = line_of(text, "sign:") if where == "red_flags" else line_of(text, HARD)  # a flag is reported at its sign
    assert any(f["line"] == line and where in f["message"] for f in found), found


def test_figure_alt_and_caption_are_measured_hl102(project_dir: Path, capsys) -> None:
    (project_dir / "content/test-topic").mkdir()
    (project_dir / "content/test-topic/picture.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
    )
    text = (
        GOOD_TOPIC
        + f'figures:\n  - file: picture.svg\n    section: causes\n    alt: "A square."\n    caption: "{HARD}"\n'
    )
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL102"]
    assert any(f["line"] == line_of(text, HARD) and "figures" in f["message"] for f in found), found


def test_the_clinic_disclaimer_is_held_to_the_easiest_level_hl102(project_dir: Path, capsys) -> None:
    clinic = project_dir / "templates/clinics/riverside-spine/clinic.yaml"
    text = clinic.read_text().replace("This handout gives general facts.", HARD, 1)
    clinic.write_text(text)
    found = [f for f in findings(project_dir, capsys) if f["code"] == "HL102" and "clinic.disclaimer" in f["message"]]
    assert found and found[0]["line"] == line_of(text, "disclaimer:") and "'easy'" in found[0]["message"]


def test_a_wrapped_paragraph_keeps_its_word_boundaries_hl204(project_dir: Path, capsys) -> None:
    assert [block.text for block in markup.to_blocks("You may need an\nimaging test.")] == [
        "You may need an imaging test."
    ]
    text = easy_text("You may need an\nosteotomy soon.")
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL204"]
    assert any("'osteotomy'" in f["message"] for f in found), found


def test_a_refusal_names_the_hardest_sentence_with_two_decimals_hl101(project_dir: Path, capsys) -> None:
    text = easy_text(f"Rest.\n\n{SEED}\n\n{SEED}\n\n{SEED}")
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL101"]
    assert found and found[0]["line"] == line_of(text, "This membrane")
    assert re.search(r"reads at grade \d+\.\d\d \(", found[0]["message"])
    assert "hardest sentence (grade" in found[0]["message"] and "This membrane allows" in found[0]["message"]


def test_syllables_of_words_the_dictionary_lacks_and_hyphens() -> None:
    from handouts import lexicon

    assert [lexicon.syllables(w) for w in ("kyphoplasty", "osteotomy", "equina", "flare-ups")] == [4, 5, 3, 2]


# ---------------------------------------------------------------- honest provenance


def test_a_review_must_have_happened(project_dir: Path, capsys) -> None:
    reviewed = GOOD_TOPIC.replace("status: draft", "status: reviewed")
    write_topic(project_dir, reviewed)
    code, out, err = run_cli(capsys, "check", "test-topic")
    assert code == 1 and "reviewed needs a review" in out + err
    write_topic(project_dir, GOOD_TOPIC + 'review: {reviewer: "A", credentials: "MD", date: "2026-01-01"}\n')
    code, out, err = run_cli(capsys, "check", "test-topic")
    assert code == 1 and "a draft has no review" in out + err
    future = reviewed + 'review: {reviewer: "Dr A", credentials: "MD", date: "2999-01-01"}\n'
    write_topic(project_dir, future)
    code, out, err = run_cli(capsys, "check", "test-topic")
    assert code == 1 and "is in the future" in out + err


def test_build_refuses_drafts_unless_allowed_hl107(project_dir: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "build", "--clinic", "riverside-spine", "--level", "easy", "--format", "json")
    summary = json.loads(out)
    assert code == 1 and summary["built"] == []
    assert {d["code"] for f in summary["failed"] for d in f["diagnostics"]} == {"HL107"}
    status_line = line_of((project_dir / "content/endplate-sclerosis.yaml").read_text(), "status:")
    assert any(
        d["file"] == "content/endplate-sclerosis.yaml" and d["line"] == status_line
        for f in summary["failed"]
        for d in f["diagnostics"]
    )


def test_a_reviewed_topic_prints_its_review_and_no_draft_mark(project_dir: Path, capsys) -> None:
    path = project_dir / "content/endplate-sclerosis.yaml"
    path.write_text(
        path.read_text().replace("status: draft", "status: reviewed")
        + 'review: {reviewer: "Dr. Test Person", credentials: "MD, test reviewer", date: "2026-11-01"}\n'
    )
    code, _, err = run_cli(
        capsys,
        "render",
        "endplate-sclerosis",
        "--clinic",
        "riverside-spine",
        "--level",
        "easy",
        "-o",
        "x.pdf",
        "--ignore-check",  # this test is about provenance, not length
    )
    assert code == 0, err
    text = " ".join((page.extract_text() or "") for page in PdfReader(project_dir / "x.pdf").pages)
    assert "Medically reviewed by Dr. Test Person, MD, test reviewer, on 1 November 2026." in " ".join(text.split())
    assert "DRAFT" not in text and "Draft" not in text


# ---------------------------------------------------------------- short enough to read


def test_a_handout_over_its_page_budget_is_refused_hl106(project_dir: Path, capsys) -> None:
    paragraphs = "\n\n".join("We rest. We walk. We sleep well." for _ in range(120))
    write_topic(project_dir, easy_text(paragraphs))
    code, _, err = run_cli(
        capsys, "render", "test-topic", "--clinic", "riverside-spine", "--level", "easy", "-o", "x.pdf"
    )
    budget = loading.load_project(project_dir).levels["easy"].max_pages
    assert code == 1 and "error HL106" in err and f"its level's budget is {budget} (max_pages)" in err
    assert not (project_dir / "x.pdf").exists()
    code, _, err = run_cli(
        capsys,
        "render",
        "test-topic",
        "--clinic",
        "riverside-spine",
        "--level",
        "easy",
        "-o",
        "x.pdf",
        "--ignore-check",
    )
    assert code == 0, err


# ---------------------------------------------------------------- the samples, on the page


def page_texts(data: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize(("clinic_id", "topic_id", "level"), CASES)
def test_sample_safety_tools_and_length(built_samples: Path, clinic_id: str, topic_id: str, level: str) -> None:
    topic = loading.load_topic(SAMPLE, topic_id)
    clinic = loading.load_clinic(SAMPLE, clinic_id)
    data = (built_samples / clinic_id / f"{topic_id}.{level}.{topic.language}.pdf").read_bytes()
    pages = page_texts(data)
    budget = SAMPLE.levels[level].max_pages
    assert budget == {"easy": 2, "standard": 4}.get(level, budget)  # one sheet at easy; 4 pages at standard
    assert budget is None or len(pages) <= budget, f"{len(pages)} pages, budget {budget}"
    first = pages[0]
    assert "The main thing to know" in first and " ".join(topic.main_message[level].markdown.split())[:40] in first
    assert "Get help now" in first and f"Call {clinic.contact.emergency} or go to the nearest emergency room" in first
    for flag in topic.red_flags[level]:
        assert " ".join(flag.sign.markdown.split()) in first
    assert clinic.contact.emergency != clinic.contact.phone
    assert all("DRAFT — not medically reviewed" in page for page in pages)  # the samples are drafts
    whole = " ".join(pages)
    assert "My plan" in whole and "1. " in whole  # a tool, and numbered self-care steps
    with pikepdf.open(io.BytesIO(data)) as pdf:
        figures = [
            element
            for element in _structure(pdf.Root.StructTreeRoot)
            if element.get("/S") == pikepdf.Name.Figure and "/Alt" in element
        ]
    alts = {str(figure.Alt) for figure in figures}
    expected = [figure.alt[level].markdown for figure in topic.figures if level in figure.levels]
    assert expected and all(alt in alts for alt in expected)


def _structure(node):
    kids = node.get("/K")
    if kids is None:
        return
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _structure(kid)


def test_fhir_says_a_draft_is_preliminary(project_dir: Path, capsys) -> None:
    assert (
        run_cli(capsys, "build", "--allow-drafts", "--clinic", "riverside-spine", "--level", "easy", "--fhir")[0] == 0
    )
    resources = list((project_dir / "output/fhir/riverside-spine").glob("*.json"))
    assert resources and all(json.loads(p.read_text())["docStatus"] == "preliminary" for p in resources)


def test_long_words_are_counted_hl105(project_dir: Path, capsys) -> None:
    text = easy_text(
        "Everybody remembers yesterday. Everybody understands tomorrow. Family is important. "
        "Everybody remembers everything. Usually nobody is unhappy. Probably everybody is okay."
    )
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic", "--level", "easy") if f["code"] == "HL105"]
    assert found and found[0]["severity"] == "error" and "long (3+ syllables)" in found[0]["message"]


def test_self_care_is_numbered_steps_hl207(project_dir: Path, capsys) -> None:
    text = GOOD_TOPIC.replace(
        "  self_care: |\n    1. Rest for 10 minutes.\n    2. Drink water.\n",
        "  self_care: |\n    Sit and sip tea.\n",
    )
    write_topic(project_dir, text)
    found = [f for f in findings(project_dir, capsys, "test-topic") if f["code"] == "HL207"]
    assert found and found[0]["line"] == line_of(text, "Sit and sip tea.") and "numbered steps" in found[0]["message"]
