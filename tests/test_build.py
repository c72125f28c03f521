"""Batch builds: incremental, crash-safe, locked, sharded, with an honest manifest."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handouts import build as builder
from handouts import loading, outfolder
from handouts.errors import UsageError
from handouts.outfolder import output_lock

from .conftest import copy_project
from .helpers import GOOD_TOPIC, files_under, run_cli, write_topic
from .pdfcheck import read_facts

# One language and one edition, as before languages and large print: 2 clinics × 2 topics per level.
LEVEL = ["--level", "easy", "--language", "en", "--edition", "regular"]


def build_json(capsys, *argv: str) -> tuple[int, dict]:
    code, out, err = run_cli(capsys, "build", "--allow-drafts", "--format", "json", "--jobs", "1", *argv)
    return code, (json.loads(out) if out.strip() else {"error": err})


def manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text())


def assert_manifest_matches_files(output: Path) -> None:
    """Every file the manifest lists exists with the recorded size, sha256, pages and title."""
    import hashlib

    for entry in manifest(output)["outputs"]:
        data = (output / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        facts = read_facts(data)
        assert (facts.pages, facts.title) == (entry["pages"], entry["title"])


# ---------------------------------------------------------------- incremental


def test_incremental_rebuilds_exactly_what_changed(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, first = build_json(capsys, *LEVEL)
    assert code == 0 and len(first["built"]) == 4  # 2 clinics × 2 topics
    assert build_json(capsys, *LEVEL)[1]["built"] == []
    (project_dir / "content" / "subchondral-sclerosis.yaml").unlink()  # fewer handouts per rebuild below

    def rebuilt_after(change) -> list[str]:
        change()
        code, summary = build_json(capsys, *LEVEL)
        assert code == 0, summary
        return sorted(summary["built"])

    topic = project_dir / "content" / "endplate-sclerosis.yaml"
    assert rebuilt_after(
        lambda: topic.write_text(topic.read_text().replace("Endplate sclerosis", "Endplate Sclerosis", 1))
    ) == [
        "bangkok-regenerative/endplate-sclerosis.easy.en.pdf",
        "riverside-spine/endplate-sclerosis.easy.en.pdf",
    ]
    clinic = project_dir / "templates" / "clinics" / "riverside-spine" / "clinic.yaml"
    assert rebuilt_after(lambda: clinic.write_text(clinic.read_text().replace("+1 555 0100", "+1 555 0111"))) == [
        "riverside-spine/endplate-sclerosis.easy.en.pdf",
    ]
    logo = project_dir / "templates" / "clinics" / "bangkok-regenerative" / "logo.svg"
    assert rebuilt_after(lambda: logo.write_text(logo.read_text().replace("#c9a227", "#b8921f"))) == [
        "bangkok-regenerative/endplate-sclerosis.easy.en.pdf",
    ]
    css = project_dir / "templates" / "handout.css"
    assert len(rebuilt_after(lambda: css.write_text(css.read_text() + "\n/* changed */\n"))) == 2
    config = project_dir / "handouts.yaml"
    assert len(rebuilt_after(lambda: config.write_text(config.read_text() + "\n# changed\n"))) == 2
    deleted = project_dir / "output" / "riverside-spine" / "endplate-sclerosis.easy.en.pdf"
    assert rebuilt_after(deleted.unlink) == ["riverside-spine/endplate-sclerosis.easy.en.pdf"]
    assert rebuilt_after(lambda: deleted.write_bytes(b"%PDF-tampered")) == [
        "riverside-spine/endplate-sclerosis.easy.en.pdf"
    ]
    code, summary = build_json(capsys, *LEVEL, "--pdf-variant", "pdf/a-3a")
    assert len(summary["built"]) == 2
    code, summary = build_json(capsys, *LEVEL, "--pdf-variant", "pdf/a-3a", "--force")
    assert len(summary["built"]) == 2
    assert_manifest_matches_files(project_dir / "output")


def test_dry_run_writes_nothing(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "build", "--allow-drafts", "--dry-run", *LEVEL)
    assert code == 0
    assert "would build  riverside-spine/endplate-sclerosis.easy.en.pdf" in out
    assert "4 to build, 0 up to date" in out
    assert [p.name for p in files_under(project_dir / "output")] in ([], [".handouts.lock"])


def test_stale_outputs_reported_then_pruned(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    write_topic(project_dir, GOOD_TOPIC)
    assert build_json(capsys, *LEVEL, "--ignore-check")[0] == 0
    (project_dir / "content" / "test-topic.yaml").unlink()
    code, summary = build_json(capsys, *LEVEL)
    assert summary["stale"] == [
        "bangkok-regenerative/test-topic.easy.en.pdf",
        "riverside-spine/test-topic.easy.en.pdf",
    ]
    assert (project_dir / "output" / "riverside-spine" / "test-topic.easy.en.pdf").exists()
    code, summary = build_json(capsys, *LEVEL, "--prune")
    assert code == 0 and summary["pruned"] == summary["stale"]
    assert not (project_dir / "output" / "riverside-spine" / "test-topic.easy.en.pdf").exists()
    assert all("test-topic" not in entry["path"] for entry in manifest(project_dir / "output")["outputs"])


# ---------------------------------------------------------------- failures


@pytest.mark.expect_weasyprint_warnings
def test_one_bad_handout_never_stops_the_others(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    write_topic(project_dir, GOOD_TOPIC + "status: draft\n", topic_id="broken-topic")
    override = project_dir / "templates" / "clinics" / "bangkok-regenerative" / "partials" / "title.html"
    override.parent.mkdir(parents=True)
    override.write_text('<h1>{{ handout.title }}</h1><img src="clinics/nope.png" alt="A missing picture">\n')
    code, _, err = run_cli(capsys, "build", "--allow-drafts", "--jobs", "2", *LEVEL)
    assert code == 1
    assert "failed: topic broken-topic" in err and "content/broken-topic.yaml:" in err
    assert "failed: bangkok-regenerative/endplate-sclerosis.easy.en" in err and "nope.png" in err
    built = {entry["path"] for entry in manifest(project_dir / "output")["outputs"]}
    assert built == {
        "riverside-spine/endplate-sclerosis.easy.en.pdf",
        "riverside-spine/subchondral-sclerosis.easy.en.pdf",
    }
    assert not list((project_dir / "output" / "bangkok-regenerative").glob("*.pdf"))
    code, summary = build_json(capsys, *LEVEL, "--force")
    assert code == 1
    failed = {failure["handout"]: failure["diagnostics"] for failure in summary["failed"]}
    assert failed["topic broken-topic"][0]["code"] == "HL001"
    assert failed["topic broken-topic"][0]["file"] == "content/broken-topic.yaml"
    assert failed["topic broken-topic"][0]["line"] > 1
    [refused] = failed["bangkok-regenerative/endplate-sclerosis.easy.en"]
    assert refused["code"] == "HL402" and refused["file"] == "content/endplate-sclerosis.yaml"


def test_an_engine_crash_fails_one_handout_hl406(project_dir: Path, capsys, monkeypatch) -> None:
    from handouts.render import Renderer

    original = Renderer.rendered

    def flaky(self, document):
        if document.name.startswith("subchondral-sclerosis"):
            raise ZeroDivisionError("inside the engine")
        return original(self, document)

    monkeypatch.setattr(Renderer, "rendered", flaky)
    code, summary = build_json(capsys, "--clinic", "riverside-spine", *LEVEL)
    assert code == 1
    assert summary["built"] == ["riverside-spine/endplate-sclerosis.easy.en.pdf"]
    [failure] = summary["failed"]
    assert failure["diagnostics"][0]["code"] == "HL406"
    assert "unexpected ZeroDivisionError: inside the engine" in failure["diagnostics"][0]["message"]


def test_a_handout_that_hangs_is_stopped(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    paragraphs = "".join(f"      Paragraph {n} is about rest and sleep.\n\n" for n in range(4000))
    text = GOOD_TOPIC.replace("    easy: |\n      Rest.\n", "    easy: |\n" + paragraphs)
    write_topic(project_dir, text)
    code, _, err = run_cli(
        capsys,
        "build",
        "--allow-drafts",
        "--topic",
        "test-topic",
        "--clinic",
        "riverside-spine",
        *LEVEL,
        "--timeout",
        "1",
        "--ignore-check",
        "--jobs",
        "1",
    )
    assert code == 1
    assert "error HL405" in err and "took longer than 1 s" in err


def test_two_jobs_writing_one_file_are_refused(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "output_name", lambda topic, clinic, level, edition="regular": f"{clinic.id}/same.pdf")
    with pytest.raises(UsageError, match=r"riverside-spine/endplate-sclerosis.easy.en and .* would both write"):
        builder.plan(loading.load_project(project_dir), clinics=["riverside-spine"])


def test_second_build_is_locked_out(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    output = project_dir / "output"
    output.mkdir()
    hold = [sys.executable, "-c", _HOLD_LOCK, str(output / ".handouts.lock")]
    with subprocess.Popen(hold, stdout=subprocess.PIPE, text=True) as holder:  # record locks belong to a process
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            code, _, err = run_cli(capsys, "build", "--allow-drafts", *LEVEL)
        finally:
            holder.kill()
    assert code == 75
    assert "is locked by handouts build (pid 4242)" in err
    assert run_cli(capsys, "build", "--allow-drafts", *LEVEL, "--jobs", "1")[0] == 0  # released with its holder


_HOLD_LOCK = """
import fcntl, sys, time
with open(sys.argv[1], "a+") as held:
    fcntl.lockf(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    held.write("handouts build (pid 4242)")
    held.flush()
    print("held", flush=True)
    time.sleep(60)
"""


def test_forked_workers_do_not_keep_the_output_locked(tmp_path: Path) -> None:
    """A killed build's orphaned render workers must not lock the next build out."""
    child = None
    try:
        with output_lock(tmp_path):
            child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,), daemon=True)
            child.start()
        assert child.is_alive()
        probe = subprocess.run([sys.executable, "-c", _TRY_LOCK, str(tmp_path)], timeout=30)
        assert probe.returncode == 0  # free although the forked child still runs
    finally:
        if child is not None:
            child.kill()


_TRY_LOCK = """
import sys
import time
from pathlib import Path
from handouts.outfolder import output_lock
with output_lock(Path(sys.argv[1])):
    pass
"""


# ---------------------------------------------------------------- shards and manifest


def test_shards_cover_the_matrix_exactly_once(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    everything = build_json(capsys, "--dry-run")[1]["to_build"]
    slices = [build_json(capsys, "--dry-run", "--shard", f"{k}/3")[1]["to_build"] for k in (1, 2, 3)]
    assert sorted(path for part in slices for path in part) == sorted(everything)
    assert all(slices)  # 12 outputs spread over 3 shards: none is empty here
    assert slices == [build_json(capsys, "--dry-run", "--shard", f"{k}/3")[1]["to_build"] for k in (1, 2, 3)]


def test_manifest_shape_and_determinism(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    outputs = []
    for name in ("one", "two"):
        root = copy_project(tmp_path / name)
        monkeypatch.chdir(root)
        assert run_cli(capsys, "build", "--allow-drafts", *LEVEL, "--jobs", "2")[0] == 0
        outputs.append(root / "output")
    assert (outputs[0] / "manifest.json").read_bytes() == (outputs[1] / "manifest.json").read_bytes()
    document = manifest(outputs[0])
    assert document["manifest_version"] == 3
    paths = [entry["path"] for entry in document["outputs"]]
    assert paths == sorted(paths) and len(paths) == 4
    for entry in document["outputs"]:
        assert set(entry) == {
            "clinic",
            "topic",
            "level",
            "language",
            "path",
            "bytes",
            "pages",
            "sha256",
            "input_key",
            "title",
            "updated",
            "status",
            "reading_grade",
            "thumbnail",
            "edition",
        }
        assert entry["path"] == f"{entry['clinic']}/{entry['topic']}.{entry['level']}.{entry['language']}.pdf"
        assert entry["pages"] >= 1 and len(entry["sha256"]) == 64 and len(entry["input_key"]) == 64
        assert 0 < entry["reading_grade"] <= 6
        assert entry["title"].endswith("(Easy to read)")
        other = outputs[1] / entry["path"]
        assert other.read_bytes() == (outputs[0] / entry["path"]).read_bytes()
    assert_manifest_matches_files(outputs[0])


# ---------------------------------------------------------------- crashes and interrupts


def run_build_process(project: Path, *argv: str, crash_at: int | None = None) -> int:
    """``handouts build`` in its own process (so it can be killed); returns its exit code."""
    environment = {key: value for key, value in os.environ.items() if key != outfolder.CRASH_VARIABLE}
    if crash_at is not None:
        environment[outfolder.CRASH_VARIABLE] = str(crash_at)
    result = subprocess.run(
        [sys.executable, "-m", "handouts", "build", "--allow-drafts", "--jobs", "1", "--quiet", *argv],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode


def snapshot(output: Path) -> dict[str, bytes]:
    return {
        path.relative_to(output).as_posix(): path.read_bytes()
        for path in files_under(output)
        if path.name != ".handouts.lock"
    }


TEMPORARY = re.compile(r"^\.(?P<final>.+)\.[A-Za-z0-9_]+\.tmp$")


def assert_consistent_after_crash(output: Path, clean: dict[str, bytes], previous: dict[str, bytes]) -> None:
    """Every file is complete under its final name (old or new bytes), or a temporary file named
    after the final name it was becoming; the manifest parses and matches what it lists."""
    for name, data in snapshot(output).items():
        folder, _, base = name.rpartition("/")
        temporary = TEMPORARY.match(base)
        if temporary:
            final = f"{folder}/{temporary['final']}" if folder else temporary["final"]
            assert final in clean or final == "manifest.json", f"stray temporary file {name}"
            continue
        assert name in clean or name in previous, f"unexpected file {name}"
        if name != "manifest.json":
            assert data in (clean.get(name), previous.get(name)), f"{name} is neither old nor new"
    if (output / "manifest.json").exists():
        assert_manifest_matches_files(output)


SAMPLED_CRASH_POINTS = (1, 2, 4, 7, 11)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["fresh", "rebuild"])
def test_kill_at_every_write_point_then_resume(tmp_path: Path, scenario: str, full: bool) -> None:
    """SIGKILL at write points (every one with --full, a sample otherwise), then resume."""
    filters = ["--clinic", "riverside-spine", *LEVEL]
    clean_root = copy_project(tmp_path / "clean")
    if scenario == "rebuild":  # the crash happens while replacing files an earlier build made
        assert run_build_process(clean_root, *filters) == 0
        topic = clean_root / "content" / "endplate-sclerosis.yaml"
        topic.write_text(topic.read_text().replace("Endplate sclerosis", "Endplate Sclerosis", 1))
    previous = snapshot(clean_root / "output")
    assert run_build_process(clean_root, *filters) == 0
    clean = snapshot(clean_root / "output")

    points = iter(range(1, 10_000) if full else SAMPLED_CRASH_POINTS)
    crash_at, crashed, tried = next(points), True, 0
    while crashed:
        root = copy_project(tmp_path / f"crash-{crash_at}")
        if scenario == "rebuild":
            (root / "content" / "endplate-sclerosis.yaml").write_text(topic.read_text())
            for name, data in previous.items():
                (root / "output" / name).parent.mkdir(parents=True, exist_ok=True)
                (root / "output" / name).write_bytes(data)
        process = run_build_process(root, *filters, crash_at=crash_at)
        crashed = process == -signal.SIGKILL
        assert_consistent_after_crash(root / "output", clean, previous)
        assert run_build_process(root, *filters) == 0  # resume
        assert snapshot(root / "output") == clean, f"resume after a crash at write point {crash_at}"
        tried += crashed
        crash_at = next(points, None)
        crashed = crashed and crash_at is not None
    assert tried >= (8 if full else len(SAMPLED_CRASH_POINTS) - 1)  # the sweep really killed the build


def _default_ctrl_c() -> None:
    """A shell runs background jobs with Ctrl-C ignored, and children inherit that: the build under
    test gets the terminal's default, as a user at the prompt has."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly(project_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "handouts", "build", "--allow-drafts", "--jobs", "2", "--language", "en"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_ctrl_c,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # "[1/12] built ..." once the first handout is written
    assert "built" in first, first
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    output = project_dir / "output"
    assert not [p for p in files_under(output) if p.name.endswith(".tmp")]
    assert_manifest_matches_files(output)
    assert 1 <= len(manifest(output)["outputs"]) < 12


# ---------------------------------------------------------------- Dask


@pytest.mark.slow
def test_dask_cluster_build_equals_local_build(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    distributed = pytest.importorskip("distributed")
    local_root = copy_project(tmp_path / "local")
    monkeypatch.chdir(local_root)
    assert run_cli(capsys, "build", "--allow-drafts", *LEVEL, "--jobs", "1")[0] == 0
    dask_root = copy_project(tmp_path / "dask")
    monkeypatch.chdir(dask_root)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        code, _, err = run_cli(capsys, "build", "--allow-drafts", *LEVEL, "--scheduler", cluster.scheduler_address)
        assert code == 0, err
    assert snapshot(dask_root / "output") == snapshot(local_root / "output")


@pytest.mark.slow
def test_unreachable_scheduler_is_a_usage_error(project_dir: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    from handouts import workers

    monkeypatch.setattr(workers, "SCHEDULER_TIMEOUT", "1s")
    code, _, err = run_cli(capsys, "build", "--allow-drafts", *LEVEL, "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2
    assert "cannot reach the Dask scheduler" in err
