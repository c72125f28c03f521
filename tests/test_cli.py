"""The command line, through its real entry point: output, files and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handouts import __version__
from handouts.cli import cli

from .helpers import files_under, run_cli
from .pdfcheck import read_facts


def test_version(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert __version__ in out


@pytest.mark.parametrize("command", [[], *([name] for name in cli.commands)])
def test_help_everywhere(capsys: pytest.CaptureFixture, command: list[str]) -> None:
    code, out, _ = run_cli(capsys, *command, "--help")
    assert code == 0
    assert "Usage: handouts" in out


def test_list(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for expected in ("endplate-sclerosis", "riverside-spine", "bangkok-regenerative", "easy", "Easy to read"):
        assert expected in out


def test_render_pdf_to_chosen_file(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(
        capsys, "render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy", "-o", "handout.pdf"
    )
    assert code == 0, out
    data = (project_dir / "handout.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert read_facts(data).title == "Endplate sclerosis (Easy to read)"
    assert "wrote handout.pdf" in out


def test_render_default_path_and_html(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "render", "endplate-sclerosis", "--clinic", "bangkok-regenerative", "--html")
    assert code == 0, err
    html = (project_dir / "output" / "bangkok-regenerative" / "endplate-sclerosis.standard.th.html").read_text()
    assert '<html lang="th">' in html  # the clinic's first language
    assert "เจ้าพระยา รีเจเนอเรทีฟ คลินิก" in html
    assert 'rel="stylesheet"' in html


def test_render_with_project_option_from_elsewhere(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(
        capsys,
        "--project",
        str(project_dir),
        "render",
        "endplate-sclerosis",
        "--clinic",
        "riverside-spine",
        "-o",
        "elsewhere.pdf",
    )
    assert code == 0, err
    assert (tmp_path / "elsewhere.pdf").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "endplate-sclerosis"], "choose a clinic with --clinic"),
        (["render", "endplate-sclerosis", "--clinic", "nowhere"], "no clinic 'nowhere'"),
        (["render", "no-such-topic", "--clinic", "riverside-spine"], "no topic 'no-such-topic'"),
        (["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "hard"], "no level 'hard'"),
        (["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--pdf-variant", "x"], "Invalid value"),
        (["build", "--allow-drafts", "--topic", "nope"], "no topic 'nope'"),
        (["build", "--allow-drafts", "--shard", "3/2"], "K must be between 1 and N"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2(project_dir: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out
    assert files_under(project_dir / "output") == []


def test_no_project_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "list")
    assert code == 2
    assert "no handouts.yaml found" in err
    assert "handouts init" in err


def test_build_then_nothing_to_do(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(
        capsys, "build", "--allow-drafts", "--clinic", "riverside-spine", "--level", "easy", "--jobs", "1"
    )
    assert code == 0, err
    manifest = json.loads((project_dir / "output" / "manifest.json").read_text())
    built = [entry["path"] for entry in manifest["outputs"]]
    assert built and all(path.startswith("riverside-spine/") and ".easy." in path for path in built)
    code, out, _ = run_cli(
        capsys, "build", "--allow-drafts", "--clinic", "riverside-spine", "--level", "easy", "--format", "json"
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["built"] == [] and sorted(summary["skipped"]) == sorted(built)


def test_init_makes_a_project_that_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "init", "clinic-handouts")
    assert code == 0, err
    assert "created a handouts project" in out
    monkeypatch.chdir(tmp_path / "clinic-handouts")
    code, _, err = run_cli(capsys, "build", "--allow-drafts", "--jobs", "1")
    assert code == 0, err
    made = sorted(path.name for path in (tmp_path / "clinic-handouts" / "output").rglob("*.pdf"))
    assert len(made) == 12  # 3 levels × English and Spanish (the clinic's languages) × regular and large print
    assert "endplate-sclerosis.easy.es.large.pdf" in made
    code, _, err = run_cli(capsys, "init", ".")
    assert code == 2
    assert "already exists" in err


# ---------------------------------------------------------------- first-use polish


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "endplate-sclerosi", "--clinic", "riverside-spine"], "did you mean 'endplate-sclerosis'?"),
        (["render", "endplate-sclerosis", "--clinic", "riverside"], "did you mean 'riverside-spine'?"),
        (["build", "--topic", "endplate"], "did you mean 'endplate-sclerosis'?"),
        (["check", "--clinic", "bangkok"], "did you mean 'bangkok-regenerative'?"),
        (["render", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", "x.txt"], "must end in .pdf"),
        (["render", "endplate-sclerosis", "--html", "--clinic", "riverside-spine", "-o", "x.pdf"], "must end in .html"),
        (["render", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", "new/x.pdf"], "add --mkdir"),
        (["packet", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", "new/x.pdf"], "add --mkdir"),
    ],
)
def test_first_use_mistakes_are_explained(project_dir: Path, capsys, argv: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and message in err, err
    assert not (project_dir / "new").exists() and not (project_dir / "x.txt").exists()


def test_project_option_names_the_folder(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "--project", str(tmp_path / "nowhere"), "list")
    assert code == 2 and f"--project {tmp_path / 'nowhere'}: no such folder" in err
    code, _, err = run_cli(capsys, "--project", str(tmp_path), "list")
    assert code == 2 and f"no handouts.yaml in that folder; run 'handouts init {tmp_path}'" in err


def test_mkdir_makes_the_folder(project_dir: Path, capsys) -> None:
    argv = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--html", "-o", "new/dir/x.html", "--mkdir"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert (project_dir / "new/dir/x.html").is_file()


def test_help_summaries_are_whole_with_an_example_each(capsys) -> None:
    code, out, _ = run_cli(capsys, "--help")
    commands = out.split("Commands:")[1]
    assert code == 0 and "..." not in commands
    for command in ("build", "check", "export", "init", "list", "packet", "render"):
        code, out, _ = run_cli(capsys, command, "--help")
        assert code == 0 and "Examples:" in out and f"handouts {command}" in out, command
