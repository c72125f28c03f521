"""handouts check: each rule trips on a fixture made for it, with the right file and line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from handouts import loading
from handouts.check import check_project, contrast_ratio
from handouts.codes import CODES

from .helpers import GOOD_TOPIC, line_of, run_cli, write_topic

TOPIC_FILE = "content/test-topic.yaml"
CLINIC_FILE = "templates/clinics/riverside-spine/clinic.yaml"
SCHEMA = Path(loading.__file__).parent / "check-report.schema.json"


def findings(project_dir: Path, code: str, **filters) -> list[str]:
    report = check_project(loading.load_project(project_dir), **filters)
    return [str(finding) for finding in report.findings if finding.code == code]


def topic_findings(project_dir: Path, text: str, code: str) -> list[str]:
    write_topic(project_dir, text)
    return findings(project_dir, code, topics=["test-topic"], clinics=["riverside-spine"])


def test_good_topic_has_no_findings(project_dir: Path) -> None:
    write_topic(project_dir, GOOD_TOPIC)
    report = check_project(loading.load_project(project_dir), topics=["test-topic"])
    assert [str(f) for f in report.findings if f.code not in ("HL103", "HL111")] == []  # HL111: no es/th yet


def test_sample_project_passes_strict(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "check", "--strict")
    assert code == 0, out
    assert "0 error(s), 0 warning(s)" in out
    assert "endplate-sclerosis" in out and "subchondral-sclerosis" in out


# ---------------------------------------------------------------- readability


HARD = (
    "Subchondral osteosclerosis necessitates comprehensive multidisciplinary evaluation incorporating "
    "radiographic, biomechanical and histopathological considerations."
)


def test_hl101_whole_handout_above_level(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{HARD}"')
    found = topic_findings(project_dir, text, "HL101")
    # located at the hardest sentence's line, not at the title
    assert found and all(f.startswith(f"{TOPIC_FILE}:{line_of(text, 'what_it_is')}: error HL101:") for f in found)
    assert any("level 'easy' reads at grade" in f and "hardest sentence" in f for f in found)


def test_hl102_section_above_level(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{HARD}"')
    found = topic_findings(project_dir, text, "HL102")
    joined = "\n".join(found)
    assert f"{TOPIC_FILE}:{line_of(text, 'what_it_is')}: error HL102: sections.what_it_is at level 'easy'" in joined
    assert (
        f"{TOPIC_FILE}:{line_of(text, 'what_it_is')}: warning HL102: sections.what_it_is at level 'standard'" in joined
    )


def test_hl103_levels_that_do_not_rise(project_dir: Path) -> None:
    write_topic(project_dir, GOOD_TOPIC)
    found = findings(project_dir, "HL103", topics=["test-topic"])
    assert any("level 'standard'" in f and "does not read harder than 'easy'" in f for f in found)
    assert findings(project_dir, "HL103", topics=["endplate-sclerosis"]) == []


# ---------------------------------------------------------------- plain language


def test_hl201_long_sentence(project_dir: Path) -> None:
    long_sentence = "Rest " + "and rest " * 8 + "again."
    text = GOOD_TOPIC.replace("      Rest.\n", f"      {long_sentence}\n")
    found = topic_findings(project_dir, text, "HL201")
    assert found == [
        f"{TOPIC_FILE}:{line_of(text, long_sentence)}: error HL201: sections.treatment: a 18-word sentence at level"
        f" 'easy' (max 15): {long_sentence[:70]!r}"
    ]


def test_hl202_long_list(project_dir: Path) -> None:
    items = "".join(f"      - item {n}\n" for n in range(1, 9))
    text = GOOD_TOPIC.replace("      Rest.\n", "      Rest.\n\n" + items)
    found = topic_findings(project_dir, text, "HL202")
    assert found == [
        f"{TOPIC_FILE}:{line_of(text, '- item 1')}: warning HL202: sections.treatment: a list of 8 items at level"
        " 'easy'; keep lists to 7"
    ]
    assert topic_findings(project_dir, GOOD_TOPIC, "HL202") == []


@pytest.mark.parametrize("number", ["40%", "40 percent", "1/3", "2.5"])
def test_hl203_numbers_at_easy_level(project_dir: Path, number: str) -> None:
    text = GOOD_TOPIC.replace("      Rest.\n", f"      Rest helps {number} of people.\n")
    found = topic_findings(project_dir, text, "HL203")
    assert len(found) == 1
    assert found[0].startswith(f"{TOPIC_FILE}:{line_of(text, 'Rest helps')}: error HL203: sections.treatment:")
    assert "at level 'easy'" in found[0]


def test_hl204_jargon_needs_glossary(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace("      Rest.\n", "      Rest eases the inflammation.\n")
    found = topic_findings(project_dir, text, "HL204")
    assert found == [
        f"{TOPIC_FILE}:{line_of(text, 'inflammation')}: error HL204: sections.treatment: 'inflammation' at level"
        " 'easy' needs a glossary entry"
    ]
    explained = text.replace("sections:\n", 'glossary:\n  inflammation: "Swelling and soreness."\nsections:\n')
    assert topic_findings(project_dir, explained, "HL204") == []


def test_hl204_project_jargon_extends_the_list(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace("      Rest.\n", "      Rest after the kyphoplasty.\n")
    assert topic_findings(project_dir, text, "HL204") == []
    config = project_dir / "handouts.yaml"
    config.write_text(config.read_text() + "jargon:\n  - kyphoplasty\n")
    assert len(topic_findings(project_dir, text, "HL204")) == 1


def test_hl205_and_hl206_missing_sections(project_dir: Path) -> None:
    text = GOOD_TOPIC.split("  key_points:")[0]
    write_topic(project_dir, text)
    found = findings(project_dir, "HL205", topics=["test-topic"]) + findings(
        project_dir, "HL206", topics=["test-topic"]
    )
    line = line_of(text, "sections:")
    assert f"{TOPIC_FILE}:{line}:1: warning HL205: add a when_to_get_help section" in found
    assert f"{TOPIC_FILE}:{line}:1: warning HL206: add a key_points section" in found


def test_hl205_no_call_to_action(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace("Call your care team if a test hurts.", "Tests can hurt.")
    found = topic_findings(project_dir, text, "HL205")
    assert found and found[0].startswith(f"{TOPIC_FILE}:{line_of(text, 'Tests can hurt')}:1: warning HL205:")


# ---------------------------------------------------------------- structure


def test_hl012_unused_glossary_term(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace("sections:\n", 'glossary:\n  femur: "The thigh bone."\nsections:\n')
    assert topic_findings(project_dir, text, "HL012") == [
        f"{TOPIC_FILE}:{line_of(text, 'femur')}:3: warning HL012: glossary term 'femur' is never used"
    ]


def test_hl014_review_overdue(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace('updated: "2026-11-01"', 'updated: "2026-11-01"\nnext_review: "2020-01-01"')
    found = topic_findings(project_dir, text, "HL014")
    assert found == [f"{TOPIC_FILE}:{line_of(text, 'next_review')}:1: warning HL014: next_review 2020-01-01 has passed"]
    future = text.replace("2020-01-01", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    assert topic_findings(project_dir, future, "HL014") == []


def test_hl013_source_must_be_https(project_dir: Path) -> None:
    text = GOOD_TOPIC.replace("sections:\n", 'sources:\n  - title: "A"\n    url: "http://example.org/a"\nsections:\n')
    found = topic_findings(project_dir, text, "HL013")
    assert found and found[0].startswith(f"{TOPIC_FILE}:{line_of(text, 'http://')}:10: error HL013:")


def test_hl015_unsafe_file_name(project_dir: Path) -> None:
    write_topic(project_dir, GOOD_TOPIC, topic_id="Bad Name")
    found = findings(project_dir, "HL015")
    assert found == [
        "content/Bad Name.yaml: error HL015: topic id 'Bad Name' is not valid: use lower-case letters,"
        " digits and '-' only"
    ]


def test_hl011_template_does_not_compile(project_dir: Path) -> None:
    broken = project_dir / "templates" / "clinics" / "riverside-spine" / "partials" / "glossary.html"
    broken.parent.mkdir(parents=True)
    broken.write_text("<dl>\n{% for x in %}\n")
    found = findings(project_dir, "HL011", clinics=["riverside-spine"])
    assert found and found[0].startswith(
        "templates/clinics/riverside-spine/partials/glossary.html:2: error HL011: template syntax error"
    )
    assert findings(project_dir, "HL011", clinics=["bangkok-regenerative"]) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not an image", "is not a valid SVG file"),
        (b"<svg>" + b" " * (1024 * 1024 + 1), "is larger than its limit of 1024 KiB"),
    ],
)
def test_hl010_logo_not_an_image(project_dir: Path, content: bytes, message: str) -> None:
    (project_dir / "templates" / "clinics" / "riverside-spine" / "logo.svg").write_bytes(content)
    found = findings(project_dir, "HL010", clinics=["riverside-spine"])
    line = line_of((project_dir / CLINIC_FILE).read_text(), "logo:")
    assert found and found[0].startswith(f"{CLINIC_FILE}:{line}:7: error HL010:") and message in found[0]


# ---------------------------------------------------------------- branding


def test_contrast_ratio_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-fails grey
    assert contrast_ratio("#1d4e89", "#fff") > 8


def test_hl301_low_contrast_colour(project_dir: Path) -> None:
    clinic = project_dir / CLINIC_FILE
    clinic.write_text(clinic.read_text().replace('primary: "#1d4e89"', 'primary: "#f4a259"'))
    found = findings(project_dir, "HL301", clinics=["riverside-spine"])
    line = line_of(clinic.read_text(), "primary:")
    assert found[0].startswith(f"{CLINIC_FILE}:{line}:3: error HL301: primary #f4a259 on white #ffffff has contrast")


def test_hl301_clinic_css_background_counts(project_dir: Path) -> None:
    css = project_dir / "templates" / "clinics" / "riverside-spine" / "clinic.css"
    css.write_text(":root { --tint: #2a4a70; }\n")
    found = findings(project_dir, "HL301", clinics=["riverside-spine"])
    assert any("primary #1d4e89 on tint #2a4a70" in f for f in found)


@pytest.mark.parametrize(
    ("old", "new", "code", "message"),
    [
        ('accent: "#f4a259"', 'accent: "orange"', "HL302", "clinic.colors.accent: 'orange' is not valid"),
        ("paper: letter", "paper: legal", "HL303", "clinic.paper: 'legal' is not one of: letter, a4"),
        ('phone: "+1 555 0100"', 'phone: "call us"', "HL304", "clinic.contact.phone: 'call us' is not valid"),
        ('website: "https://riverside-spine.example"', 'website: "www.example"', "HL304", "clinic.contact.website"),
    ],
)
def test_hl302_to_hl304_clinic_values(project_dir: Path, old: str, new: str, code: str, message: str) -> None:
    clinic = project_dir / CLINIC_FILE
    text = clinic.read_text().replace(old, new)
    clinic.write_text(text)
    found = findings(project_dir, code, clinics=["riverside-spine"])
    line = line_of(text, new)
    assert len(found) == 1 and found[0].startswith(f"{CLINIC_FILE}:{line}:") and message in found[0], found


# ---------------------------------------------------------------- the command


def test_exit_codes_and_strict(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    write_topic(project_dir, GOOD_TOPIC.split("  key_points:")[0])  # warnings only
    assert run_cli(capsys, "check", "test-topic")[0] == 0
    assert run_cli(capsys, "check", "test-topic", "--strict")[0] == 1
    write_topic(project_dir, GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{HARD}"'))
    code, out, _ = run_cli(capsys, "check", "test-topic")
    assert code == 1
    assert f"\n{TOPIC_FILE}\n" in out  # grouped by file
    assert "error HL101" in out
    assert run_cli(capsys, "check", "no-such-topic")[0] == 2
    assert run_cli(capsys, "check", "--level", "expert")[0] == 2


def test_json_report_matches_documented_schema(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    write_topic(project_dir, GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{HARD}"'))
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    assert code == 1
    report = json.loads(out)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["summary"]["errors"] == sum(f["severity"] == "error" for f in report["findings"]) > 0
    assert {f["code"] for f in report["findings"]} <= set(CODES)
    levels = {(entry["topic"], entry["level"]) for entry in report["readability"]}
    assert ("endplate-sclerosis", "easy") in levels and ("test-topic", "detailed") in levels


# ---------------------------------------------------------------- the gate


def test_build_refuses_a_handout_above_its_level(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    write_topic(project_dir, GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{HARD}"'))
    code, _, err = run_cli(
        capsys, "build", "--allow-drafts", "--topic", "test-topic", "--clinic", "riverside-spine", "--jobs", "1"
    )
    assert code == 1
    assert "refused: it does not pass 'handouts check'" in err
    assert "error HL101" in err
    output = project_dir / "output" / "riverside-spine"
    assert not list(output.glob("test-topic.easy.*.pdf"))
    code, _, err = run_cli(
        capsys,
        "build",
        "--allow-drafts",
        "--topic",
        "test-topic",
        "--clinic",
        "riverside-spine",
        "--jobs",
        "1",
        "--ignore-check",
    )
    assert code == 0, err
    manifest = json.loads((project_dir / "output" / "manifest.json").read_text())
    grades = {entry["level"]: entry["reading_grade"] for entry in manifest["outputs"]}
    assert grades["easy"] > 6  # the truth is recorded even when the check was overridden


def test_render_refuses_a_handout_above_its_level(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    write_topic(project_dir, GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{HARD}"'))
    argv = ["render", "test-topic", "--clinic", "riverside-spine", "--level", "easy", "-o", "x.pdf"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1 and "error HL101" in err
    assert not (project_dir / "x.pdf").exists()
    assert run_cli(capsys, *argv, "--ignore-check")[0] == 0
    assert (project_dir / "x.pdf").is_file()
