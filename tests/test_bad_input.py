"""Bad input: a located message (file:line), a non-zero exit code, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from handouts import loading
from handouts.cli import main
from handouts.errors import ConfigError, UsageError

from .helpers import MINIMAL_TOPIC, files_under, line_of, run_cli, write_topic

TOPIC_FILE = "content/test-topic.yaml"
CLINIC_FILE = "templates/clinics/riverside-spine/clinic.yaml"


def topic_error(project: Path, text: str) -> str:
    write_topic(project, text)
    with pytest.raises(ConfigError) as caught:
        loading.load_topic(loading.load_project(project), "test-topic")
    return str(caught.value)


def test_minimal_topic_is_valid(project_dir: Path) -> None:
    write_topic(project_dir, MINIMAL_TOPIC)
    topic = loading.load_topic(loading.load_project(project_dir), "test-topic")
    assert topic.sections["treatment"].for_level("easy").markdown == "Rest.\n"
    assert topic.sections["treatment"].for_level("easy").position.line == line_of(MINIMAL_TOPIC, "Rest.")


def test_duplicate_key(project_dir: Path) -> None:
    text = MINIMAL_TOPIC + "status: reviewed\n"
    message = topic_error(project_dir, text)
    first = line_of(text, "status:")
    assert (
        f"{TOPIC_FILE}:{len(text.splitlines())}:1: error HL001: "
        f"duplicate key 'status' (first defined on line {first})" in message
    )


def test_unknown_key_with_suggestion(project_dir: Path) -> None:
    text = MINIMAL_TOPIC.replace("updated:", "updatd:")
    message = topic_error(project_dir, text)
    assert (
        f"{TOPIC_FILE}:{line_of(text, 'updatd')}:1: error HL002: "
        "topic: unknown key 'updatd'; did you mean 'updated'?" in message
    )
    assert "missing required key 'updated'" in message  # all problems at once


def test_missing_required_section(project_dir: Path) -> None:
    text = MINIMAL_TOPIC.replace('  causes: "Tests cause it."\n', "")
    message = topic_error(project_dir, text)
    assert (
        f"{TOPIC_FILE}:{line_of(text, 'what_it_is')}:3: error HL002: topic.sections: missing required key 'causes'"
        in message
    )


def test_missing_level_text(project_dir: Path) -> None:
    text = MINIMAL_TOPIC.replace("    detailed: |\n      Rest, drink water and read the detailed notes.\n", "")
    message = topic_error(project_dir, text)
    line = line_of(text, "    easy: |")
    assert f"{TOPIC_FILE}:{line}:5: error HL004: sections.treatment: no text for level 'detailed'" in message


def test_raw_html_in_markdown_is_refused(project_dir: Path) -> None:
    text = MINIMAL_TOPIC.replace("      Rest.\n", '      Rest.\n\n      <img src="file:///etc/passwd">\n')
    message = topic_error(project_dir, text)
    assert (
        f"{TOPIC_FILE}:{line_of(text, '<img')}: error HL003: sections.treatment.easy: raw HTML is not allowed"
        in message
    )


@pytest.mark.parametrize("link", ["http://127.0.0.1/", "file:///etc/passwd", "javascript:alert"])
def test_unsafe_link_in_markdown_is_refused(project_dir: Path, link: str) -> None:
    text = MINIMAL_TOPIC.replace("      Rest and drink water.\n", f"      Rest and [drink water]({link}).\n")
    message = topic_error(project_dir, text)
    assert (
        f"{TOPIC_FILE}:{line_of(text, link)}: error HL003: sections.treatment.standard: link {link!r} is not allowed"
        in message
    )


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("extra: &anchor x\n", "anchors (&name) are not allowed"),
        ("reviewed_again: !!int 5\n", "YAML tags such as 'tag:yaml.org,2002:int' are not allowed"),
    ],
)
def test_yaml_features_we_refuse(project_dir: Path, snippet: str, expected: str) -> None:
    message = topic_error(project_dir, MINIMAL_TOPIC + snippet)
    assert f"{TOPIC_FILE}:{len(MINIMAL_TOPIC.splitlines()) + 1}:" in message
    assert expected in message


def test_scalars_stay_strings(project_dir: Path) -> None:
    text = MINIMAL_TOPIC.replace("title: Test topic", "title: NO").replace('"2026-11-01"', "2026-11-01")
    write_topic(project_dir, text)
    topic = loading.load_topic(loading.load_project(project_dir), "test-topic")
    assert topic.titles["easy"] == "NO"
    assert topic.updated.isoformat() == "2026-11-01"


def test_bad_date(project_dir: Path) -> None:
    text = MINIMAL_TOPIC.replace('"2026-11-01"', '"1 Nov 2026"')
    message = topic_error(project_dir, text)
    assert (
        f"{TOPIC_FILE}:{line_of(text, 'updated:')}:10: error HL002: topic.updated: '1 Nov 2026' is not a date"
        in message
    )


def clinic_error(project: Path, old: str, new: str) -> tuple[str, str]:
    path = project / CLINIC_FILE
    text = path.read_text().replace(old, new)
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        loading.load_clinic(loading.load_project(project), "riverside-spine")
    return str(caught.value), text


def test_unquoted_colour_is_explained(project_dir: Path) -> None:
    message, text = clinic_error(project_dir, 'primary: "#1d4e89"', "primary: #1d4e89")
    line = line_of(text, "primary:")
    assert f"{CLINIC_FILE}:{line}:" in message
    assert "clinic.colors.primary: must not be empty (an unquoted # starts a YAML comment" in message


def test_missing_logo_file(project_dir: Path) -> None:
    message, text = clinic_error(project_dir, "logo: logo.svg", "logo: missing.svg")
    assert (
        f"{CLINIC_FILE}:{line_of(text, 'logo:')}:7: error HL010: clinic.logo: file 'missing.svg' not found" in message
    )


def test_logo_outside_clinic_folder(project_dir: Path) -> None:
    message, _ = clinic_error(project_dir, "logo: logo.svg", "logo: ../bangkok-regenerative/logo.svg")
    assert "must be a file inside the clinic's folder" in message


@pytest.mark.parametrize("topic_id", ["../etc/passwd", "..", "Endplate", "a/b"])
def test_unsafe_topic_id(project_dir: Path, capsys: pytest.CaptureFixture, topic_id: str) -> None:
    code, out, err = run_cli(capsys, "render", topic_id, "--clinic", "riverside-spine")
    assert code == 2
    assert f"error: topic id {topic_id!r} is not valid: use lower-case letters" in err
    assert "Traceback" not in out + err
    with pytest.raises(UsageError, match="is not valid: use lower-case letters"):
        loading.load_topic(loading.load_project(project_dir), topic_id)
    assert files_under(project_dir / "output") == []


def test_cli_reports_located_error_and_writes_nothing(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    text = MINIMAL_TOPIC + "status: reviewed\n"
    write_topic(project_dir, text)
    target = project_dir / "out" / "handout.pdf"
    with pytest.raises(SystemExit) as exited:
        main(["render", "test-topic", "--clinic", "riverside-spine", "-o", str(target), "--mkdir"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"{TOPIC_FILE}:{len(text.splitlines())}:1: error HL001: duplicate key 'status'" in err
    assert "Traceback" not in err
    assert files_under(project_dir / "out") == []
    assert files_under(project_dir / "output") == []


@pytest.mark.expect_weasyprint_warnings
@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1/logo.png", "../../../../etc/hostname"])
def test_template_cannot_fetch_outside_project(project_dir: Path, capsys: pytest.CaptureFixture, url: str) -> None:
    override = project_dir / "templates" / "clinics" / "riverside-spine" / "partials" / "title.html"
    override.parent.mkdir(parents=True)
    override.write_text(f'<h1>{{{{ handout.title }}}}</h1><img src="{url}" alt="x">\n')
    write_topic(project_dir, MINIMAL_TOPIC)
    target = project_dir / "out" / "handout.pdf"
    with pytest.raises(SystemExit) as exited:
        main(["render", "test-topic", "--clinic", "riverside-spine", "-o", str(target), "--mkdir"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "refused to fetch" in err and "error HL402" in err
    assert "test-topic × riverside-spine × standard" in err
    assert files_under(project_dir / "out") == []


@pytest.mark.expect_weasyprint_warnings
def test_missing_image_in_template_fails_the_handout(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    override = project_dir / "templates" / "clinics" / "riverside-spine" / "partials" / "title.html"
    override.parent.mkdir(parents=True)
    override.write_text('<h1>{{ handout.title }}</h1><img src="clinics/riverside-spine/nope.png" alt="x">\n')
    write_topic(project_dir, MINIMAL_TOPIC)
    with pytest.raises(SystemExit) as exited:
        main(["render", "test-topic", "--clinic", "riverside-spine", "-o", "x.pdf"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "nope.png" in err and "content/test-topic.yaml: error HL402:" in err
    assert not (project_dir / "x.pdf").exists()


@pytest.mark.expect_weasyprint_warnings
def test_weasyprint_warning_fails_the_handout_hl403(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    css = project_dir / "templates" / "clinics" / "riverside-spine" / "clinic.css"
    css.write_text(".masthead { color: not-a-colour; }\n")
    code, _, err = run_cli(capsys, "render", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", "x.pdf")
    assert code == 1
    assert "templates/clinics/riverside-spine/clinic.css: error HL403:" in err and "not-a-colour" in err
    assert not (project_dir / "x.pdf").exists()


def test_unwritable_output_is_one_clear_line_hl407(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    (project_dir / "a-file").write_text("not a folder")
    target = project_dir / "a-file" / "x.pdf"
    argv = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", str(target), "--mkdir"]
    code, out, err = run_cli(capsys, *argv, "--ignore-check")
    assert code == 1
    assert err.strip() == f"{target}: error HL407: cannot write: {project_dir / 'a-file'} is not a folder"
    assert "Traceback" not in out + err
