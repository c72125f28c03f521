"""Hostile input, tried as an attacker and as a careless user would: every file is untrusted.

A corpus of hostile files (made here) goes through ``check``, ``render`` and
``build``: each must end with exit code 1 or 2, a message that names the file
(and line where there is one), no traceback, nothing written for that handout,
and no command run or file read that the handout may not use.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import GOOD_TOPIC, files_under, line_of, run_cli, write_topic

CLINIC = "templates/clinics/riverside-spine"
TOPIC = "content/test-topic.yaml"
SECRET = "canary-secret-3f9a1c"
EASY = ("--level", "easy", "--language", "en", "--edition", "regular")  # one handout per clinic × topic
# What a clinic-wide template problem found in the rendered HTML is reported as (per handout).
ATTACHMENT = "× riverside-spine × easy: file attachments are not allowed"
REFUSED = "× riverside-spine × easy: refused to fetch"


def _header_override(root: Path, extra: str) -> None:
    """A clinic override of the header partial with ``extra`` added."""
    base = (root / "templates/partials/header.html").read_text()
    target = root / CLINIC / "partials/header.html"
    target.parent.mkdir(exist_ok=True)
    target.write_text(base + extra)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _dotfile_logo(root: Path) -> None:
    (root / "templates/.secret.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg">{SECRET}</svg>')
    _header_override(root, '<img src=".secret.svg" alt="x">')


@dataclass(frozen=True)
class Case:
    """One hostile input: how to make it, the file the message must name, and the handout it breaks."""

    name: str
    setup: Callable[[Path], None]
    names: str  # "file:" or "file:line:" prefix expected on stderr
    topic: str = "test-topic"
    project_wide: bool = False  # the project itself cannot load: every command exits 2


CASES = [
    Case("deep-yaml", lambda r: write_topic(r, GOOD_TOPIC + "extra: " + "[" * 500 + "]" * 500 + "\n"), f"{TOPIC}:"),
    Case("nul-in-yaml", lambda r: write_topic(r, GOOD_TOPIC.replace("a test.", "a te\x00st.")), f"{TOPIC}:"),
    Case(
        "bel-in-clinic",
        lambda r: (r / CLINIC / "clinic.yaml").write_text((r / CLINIC / "clinic.yaml").read_text() + "# ring \x07\n"),
        f"{CLINIC}/clinic.yaml:",
    ),
    Case(
        "nul-logo-path",
        lambda r: _replace(r / CLINIC / "clinic.yaml", "logo: logo.svg", 'logo: "lo\\0go.svg"'),
        f"{CLINIC}/clinic.yaml:",
    ),
    Case(
        "nan-number",
        lambda r: _replace(r / "handouts.yaml", "max_sentence_words: 15", "max_sentence_words: .nan"),
        "handouts.yaml:",
        project_wide=True,
    ),
    Case(
        "output-is-project",
        lambda r: _replace(r / "handouts.yaml", "output: output", 'output: "."'),
        "handouts.yaml:",
        project_wide=True,
    ),
    Case(
        "output-is-parent",
        lambda r: _replace(r / "handouts.yaml", "output: output", 'output: ".."'),
        "handouts.yaml:",
        project_wide=True,
    ),
    Case(
        "non-utf8-css",
        lambda r: (r / CLINIC / "clinic.css").write_bytes(b"h2 { margin: 0 }\n/* \xff */\n"),
        f"{CLINIC}/clinic.css:2:",
    ),
    Case(
        "non-utf8-template",
        lambda r: (
            (r / CLINIC / "partials").mkdir()
            or (r / CLINIC / "partials/footer.html").write_bytes(b"<footer>\n\xfe</footer>\n")
        ),
        f"{CLINIC}/partials/footer.html:2:",
    ),
    Case("fifo-topic", lambda r: os.mkfifo(r / TOPIC), f"{TOPIC}:"),
    Case("folder-topic", lambda r: (r / TOPIC).mkdir(), f"{TOPIC}:"),
    Case("huge-topic", lambda r: write_topic(r, GOOD_TOPIC + "# " + "x" * (30 * 1024 * 1024) + "\n"), f"{TOPIC}:"),
    Case(
        "huge-section",
        lambda r: write_topic(
            r,
            GOOD_TOPIC.replace(
                '  what_it_is: "It is a test."', "  what_it_is: |\n" + "    It is a test of rest.\n" * 450_000
            ),
        ),
        f"{TOPIC}:",
    ),
    Case(
        "sandbox-escape",
        lambda r: _header_override(r, "{{ cycler.__init__.__globals__.os.popen('touch pwned').read() }}"),
        f"{CLINIC}/partials/header.html:",
    ),
    Case(
        "path-read",
        lambda r: _header_override(r, "{{ clinic.folder.joinpath('clinic.yaml').read_text() }}"),
        f"{CLINIC}/partials/header.html:",
    ),
    Case("attachment", lambda r: _header_override(r, '<link rel="attachment" href="../.env">'), ATTACHMENT),
    Case("anchor-attachment", lambda r: _header_override(r, '<a rel="attachment" href="../.env">x</a>'), ATTACHMENT),
    Case(
        "other-clinic-file",
        lambda r: _header_override(r, '<img src="clinics/bangkok-regenerative/logo.svg" alt="x">'),
        REFUSED,
    ),
    Case("dotfile", lambda r: _dotfile_logo(r), REFUSED),
    Case("file-url-outside", lambda r: _header_override(r, '<img src="file:///etc/passwd" alt="x">'), REFUSED),
    Case(
        "css-import-outside",
        lambda r: (r / CLINIC / "clinic.css").write_text('@import "../../../.env";\n'),
        f"{CLINIC}/clinic.css:1:",
    ),
    Case(
        "logo-symlink-out",
        lambda r: (r / CLINIC / "logo.svg").unlink() or (r / CLINIC / "logo.svg").symlink_to(r / ".env"),
        f"{CLINIC}/clinic.yaml:",
    ),
    Case(
        "logo-broken-svg",
        lambda r: (r / CLINIC / "logo.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><g></svg>'
        ),
        f"{CLINIC}/clinic.yaml:",
    ),
    Case(
        "logo-entities",
        lambda r: (r / CLINIC / "logo.svg").write_text(
            '<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]>'
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9">&a;</svg>'
        ),
        f"{CLINIC}/clinic.yaml:",
    ),
    Case(
        "unreadable-colour",
        lambda r: (r / CLINIC / "clinic.css").write_text("\nbody { color: #fefefe }\n"),
        f"{CLINIC}/clinic.css:2:",
    ),
    Case("glyph-missing", lambda r: write_topic(r, GOOD_TOPIC.replace("a test.", "a test हड्डी.")), f"{TOPIC}:"),
    Case(
        "template-runtime-error",
        lambda r: _header_override(r, "{{ clinic.no_such_field }}"),
        f"{CLINIC}/partials/header.html:",
    ),
]


def _prepare(root: Path, case: Case) -> None:
    (root / ".env").write_text(f"SECRET={SECRET}\n")
    write_topic(root, GOOD_TOPIC)
    if case.name in ("fifo-topic", "folder-topic"):
        (root / TOPIC).unlink()
    case.setup(root)


def _assert_refused(code: int, out: str, err: str, case: Case) -> None:
    assert code in (1, 2), (code, out, err)
    assert "Traceback" not in out + err
    assert case.names in err + out, err + out
    assert re.search(r"error HL\d{3}", err + out), err


def _assert_nothing_leaked(root: Path) -> None:
    assert not (root / "pwned").exists(), "a template ran a command"
    for path in files_under(root / "output") + files_under(root / "out"):
        assert SECRET.encode() not in path.read_bytes(), f"{path} holds a file the handout may not read"


# The fast tier runs a few cases of the corpus; the slow tier (and CI, --full) runs all of them.
FAST_CASES = ("sandbox-escape", "attachment", "huge-topic", "fifo-topic", "nan-number")


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=() if c.name in FAST_CASES else pytest.mark.slow) for c in CASES],
)
def test_check_render_and_build_refuse_hostile_input(project_dir: Path, capsys, case: Case) -> None:
    _prepare(project_dir, case)

    code, out, err = run_cli(capsys, "check")
    _assert_refused(code, out, err, case)

    code, out, err = run_cli(
        capsys,
        "render",
        case.topic,
        "--clinic",
        "riverside-spine",
        *EASY,
        "-o",
        "out/x.pdf",
        "--mkdir",
        "--timeout",
        "60",
    )
    _assert_refused(code, out, err, case)
    assert not (project_dir / "out").exists() or files_under(project_dir / "out") == []

    code, out, err = run_cli(
        capsys, "build", "--allow-drafts", "--clinic", "riverside-spine", *EASY, "--jobs", "1", "--timeout", "60"
    )
    _assert_refused(code, out, err, case)
    bad = f"riverside-spine/{case.topic}.easy.en.pdf"
    assert not (project_dir / "output" / bad).exists()
    if not case.project_wide and case.topic == "test-topic" and not case.name.startswith(("logo", "bel", "nul-logo")):
        # one bad handout never stops the others: the sample topics of this clinic still build,
        # unless what is broken is the clinic itself (its templates, CSS or logo)
        built = json.loads((project_dir / "output/manifest.json").read_text())["outputs"]
        clinic_wide = case.names.startswith(CLINIC) or case.name in (
            "attachment",
            "anchor-attachment",
            "other-clinic-file",
            "dotfile",
            "file-url-outside",
        )
        assert clinic_wide or len(built) == 2, built
    _assert_nothing_leaked(project_dir)


def test_one_bad_topic_file_or_name_never_stops_the_build(project_dir: Path, capsys) -> None:
    os.mkfifo(project_dir / "content/a-fifo.yaml")
    (project_dir / "content/Bad Name.yaml").write_text(GOOD_TOPIC)
    code, out, err = run_cli(capsys, "build", "--allow-drafts", *EASY, "--jobs", "2", "--format", "json")
    summary = json.loads(out)
    assert code == 1 and "Traceback" not in err
    assert len(summary["built"]) == 4  # both sample topics for both clinics
    codes = {d["code"] for failure in summary["failed"] for d in failure["diagnostics"]}
    assert codes == {"HL005", "HL015"}, summary["failed"]


def test_a_sandbox_violation_is_a_located_error_hl016(project_dir: Path, capsys) -> None:
    _header_override(project_dir, "\n{{ cycler.__init__.__globals__.os.popen('touch pwned').read() }}\n")
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["code"] == "HL016"]
    lines = (project_dir / CLINIC / "partials/header.html").read_text().splitlines()
    assert code == 1 and found and found[0]["file"] == f"{CLINIC}/partials/header.html"
    assert "cycler" in lines[found[0]["line"] - 1]
    assert not (project_dir / "pwned").exists()


def test_size_limits_are_configurable_hl006(project_dir: Path, capsys) -> None:
    write_topic(project_dir, GOOD_TOPIC + "# " + "x" * 20_000 + "\n")
    assert "HL006" not in "".join(run_cli(capsys, "check")[1:])  # 20 KB is within the default
    with (project_dir / "handouts.yaml").open("a") as handle:
        handle.write("limits:\n  topic_kib: 16\n")
    code, out, err = run_cli(capsys, "check")
    assert code == 1
    assert f"{TOPIC}: error HL006: is larger than its limit of 16 KiB" in out + err


def test_characters_no_font_has_are_found_by_check_hl305(project_dir: Path, capsys) -> None:
    text = GOOD_TOPIC.replace("It is a test.", "It is a test हड्डी 🦴.")  # Devanagari: no shipped font has it
    write_topic(project_dir, text)
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["code"] == "HL305"]
    assert code == 1 and {f["line"] for f in found} == {line_of(text, "🦴")}
    assert any("U+1F9B4" in f["message"] for f in found) and any("U+0939" in f["message"] for f in found)


# ---------------------------------------------------------------- the output folder is untrusted


def test_a_poisoned_manifest_deletes_and_reads_nothing_outside_hl408(project_dir: Path, capsys, tmp_path) -> None:
    assert run_cli(capsys, "build", "--allow-drafts", *EASY, "--clinic", "riverside-spine", "--jobs", "1")[0] == 0
    victim = project_dir.parent / "victim.txt"
    victim.write_text(SECRET)
    victim.with_suffix(".png").write_text(SECRET)
    (project_dir / "output/old").mkdir()
    (project_dir / "output/old/gone.easy.en.pdf").symlink_to(victim)
    manifest_path = project_dir / "output/manifest.json"
    manifest = json.loads(manifest_path.read_text())
    poisoned = dict(manifest["outputs"][0], path="../../victim.txt", topic="gone", clinic="old", thumbnail=None)
    manifest["outputs"].append(poisoned)
    manifest_path.write_text(json.dumps(manifest))
    code, _out, err = run_cli(
        capsys, "build", "--allow-drafts", *EASY, "--clinic", "riverside-spine", "--prune", "--jobs", "1"
    )
    assert code == 0, err
    assert "warning HL408" in err and "'../../victim.txt' is not an output's path" in err
    assert victim.read_text() == SECRET and victim.with_suffix(".png").read_text() == SECRET
    manifest["outputs"].append(poisoned)
    manifest_path.write_text(json.dumps(manifest))
    code, _, err = run_cli(capsys, "export", "fhir", "--embed")
    assert code == 0, err
    for path in files_under(project_dir / "output/fhir"):
        assert SECRET not in path.read_text()


def test_temporary_cleanup_touches_only_our_names(project_dir: Path, capsys) -> None:
    output = project_dir / "output"
    (output / "riverside-spine").mkdir(parents=True)
    ours = output / "riverside-spine" / ".x.easy.en.pdf.abcd1234.tmp"
    theirs = [output / "notes.tmp", output / ".cache.tmp", output / "riverside-spine" / ".editor.swp.tmp"]
    for path in [ours, *theirs]:
        path.write_text("x")
    assert run_cli(capsys, "build", "--allow-drafts", *EASY, "--clinic", "riverside-spine", "--dry-run")[0] == 0
    assert not ours.exists() and all(path.exists() for path in theirs)


def test_writes_never_follow_a_symlinked_clinic_folder(project_dir: Path, capsys, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project_dir / "output").mkdir()
    (project_dir / "output/riverside-spine").symlink_to(elsewhere)
    code, _, err = run_cli(capsys, "build", "--allow-drafts", *EASY, "--clinic", "riverside-spine", "--jobs", "1")
    assert code == 1 and "error HL407" in err and "symbolic link" in err and "Traceback" not in err
    assert list(elsewhere.iterdir()) == []


def test_write_errors_are_one_clear_line_hl407(project_dir: Path, capsys) -> None:
    argv = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", "/proc/x/y.pdf", "--mkdir"]
    code, _, err = run_cli(capsys, *argv, "--ignore-check")
    assert code == 1 and "error HL407" in err and "/proc/x/y.pdf" in err and "Traceback" not in err
    a_file = project_dir / "a-file"
    a_file.write_text("not a folder")
    code, _, err = run_cli(capsys, "init", str(a_file / "new"))  # fails even for root, unlike a read-only folder
    assert code in (1, 2) and "Traceback" not in err and "a-file" in err


# ---------------------------------------------------------------- bounded work


def _slow_for(topic: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rendering ``topic`` hang (worker processes are forked: they inherit the patch)."""
    import time

    from handouts.render import Renderer

    original = Renderer.rendered

    def slow(self, document):
        if document.name.startswith(topic):
            time.sleep(120)
        return original(self, document)

    monkeypatch.setattr(Renderer, "rendered", slow)


def test_render_stops_a_slow_handout_from_outside_hl405(project_dir: Path, capsys, monkeypatch) -> None:
    import time

    _slow_for("endplate-sclerosis", monkeypatch)
    started = time.monotonic()
    code, _, err = run_cli(
        capsys,
        "render",
        "endplate-sclerosis",
        "--clinic",
        "riverside-spine",
        "-o",
        "out/x.pdf",
        "--mkdir",
        "--timeout",
        "2",
    )
    assert code == 1 and "error HL405" in err and "took longer than 2 s" in err
    assert time.monotonic() - started < 30
    assert not (project_dir / "out/x.pdf").exists()


@pytest.mark.slow
def test_dask_workers_stop_a_slow_handout_too_hl405(project_dir: Path, capsys, monkeypatch) -> None:
    distributed = pytest.importorskip("distributed")
    _slow_for("endplate-sclerosis", monkeypatch)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        code, out, err = run_cli(
            capsys,
            "build",
            "--allow-drafts",
            *EASY,
            "--timeout",
            "3",
            "--scheduler",
            cluster.scheduler_address,
            "--format",
            "json",
        )
    summary = json.loads(out)
    assert code == 1, err
    assert sorted(summary["built"]) == [
        f"{c}/subchondral-sclerosis.easy.en.pdf" for c in ("bangkok-regenerative", "riverside-spine")
    ]
    assert {d["code"] for f in summary["failed"] for d in f["diagnostics"]} == {"HL405"}


# ---------------------------------------------------------------- no work lost


def _matrix_of_120(root: Path) -> None:
    """20 topics × 2 clinics × 3 levels: copies of the two sample topics."""
    for sample in ("endplate-sclerosis", "subchondral-sclerosis"):
        text = (root / "content" / f"{sample}.yaml").read_text()
        for n in range(1, 10):
            (root / "content" / f"{sample}-{n}.yaml").write_text(text)
            shutil.copytree(root / "content" / sample, root / "content" / f"{sample}-{n}")  # its figures


@pytest.mark.slow
def test_a_killed_build_loses_only_what_was_not_checkpointed(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from .conftest import copy_project

    clean, killed = copy_project(tmp_path / "clean"), copy_project(tmp_path / "killed")
    for root in (clean, killed):
        _matrix_of_120(root)
    command = [sys.executable, "-m", "handouts", "build", "--allow-drafts", "--jobs", "2", "--language", "en"]
    command += ["--edition", "regular"]  # 120 handouts: one language, one edition
    assert subprocess.run(command, cwd=clean, capture_output=True, timeout=600).returncode == 0
    with subprocess.Popen(command, cwd=killed, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("[90/120]"):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    again = subprocess.run([*command, "--format", "json"], cwd=killed, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    rebuilt = json.loads(again.stdout)["built"]
    print(f"{len(rebuilt)} of 120 rebuilt after a kill at 75 %")
    assert len(rebuilt) <= 40, f"{len(rebuilt)} of 120 rebuilt after a kill at 75 %"

    def snapshot(output: Path) -> dict[str, bytes]:
        return {
            p.relative_to(output).as_posix(): p.read_bytes() for p in files_under(output) if p.name != ".handouts.lock"
        }

    assert snapshot(killed / "output") == snapshot(clean / "output")
