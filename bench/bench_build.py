"""Benchmark `handouts build` against the floor (plain WeasyPrint) and a scripter's shell loop.

Run from the repository root (takes several minutes on 2 cores):

    .venv/bin/python bench/bench_build.py                # 20 clinics × 10 topics × 3 levels
    .venv/bin/python bench/bench_build.py --clinics 4 --topics 2    # a quick look

Prints, in one run: ms per handout for `handouts build` (all cores, and one job),
for a plain in-process WeasyPrint loop over the same HTML (the floor), and for a
shell loop calling the `weasyprint` command once per handout; the no-op rebuild
time as a fraction of the full build; and peak RSS per worker, for a short build
and for the whole matrix (it must stay flat).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from handouts import build as builder  # noqa: E402
from handouts import loading  # noqa: E402
from handouts.templates import Templates  # noqa: E402
from handouts.views import handout_view  # noqa: E402

PALETTE = ["#1d4e89", "#0b5d45", "#6a1b4d", "#7a3b00", "#263238", "#004d61", "#3e2a78", "#5b3000"]


def make_project(root: Path, clinics: int, topics: int) -> None:
    """A project with ``clinics`` × ``topics`` made from the samples (ids and colours varied)."""
    shutil.copyfile(REPO / "handouts.yaml", root / "handouts.yaml")
    shutil.copytree(REPO / "templates", root / "templates", ignore=shutil.ignore_patterns("clinics"))
    (root / "content").mkdir()
    samples = sorted((REPO / "content").glob("*.yaml"))
    for index in range(topics):
        source = samples[index % len(samples)]
        text = source.read_text(encoding="utf-8")
        text = re.sub(r"^title: (.*)$", rf"title: \1 ({index + 1})", text, count=1, flags=re.M)
        (root / "content" / f"{source.stem}-{index + 1:02d}.yaml").write_text(text, encoding="utf-8")
    sample_clinics = sorted((REPO / "templates" / "clinics").iterdir())
    for index in range(clinics):
        source = sample_clinics[index % len(sample_clinics)]
        target = root / "templates" / "clinics" / f"{source.name}-{index + 1:02d}"
        shutil.copytree(source, target)
        yaml = target / "clinic.yaml"
        text = re.sub(r'primary: "#[0-9a-f]{6}"', f'primary: "{PALETTE[index % len(PALETTE)]}"', yaml.read_text())
        yaml.write_text(text.replace("name: ", f"name: Clinic {index + 1} · ", 1), encoding="utf-8")


def timed_build(project, jobs: int, force: bool = True) -> tuple[float, int]:
    the_plan = builder.plan(project)
    started = time.perf_counter()
    report = builder.build(project, the_plan, builder.BuildOptions(jobs=jobs, force=force))
    elapsed = time.perf_counter() - started
    assert report.ok, report.failed[:3]
    return elapsed, len(report.built)


def write_html(project, folder: Path) -> list[Path]:
    """The exact HTML each handout is made from, as standalone files linking their stylesheets."""
    templates = Templates(project)
    the_plan = builder.plan(project)
    paths = []
    for job in the_plan.jobs:
        handout = handout_view(project, the_plan.topics[job.topic], the_plan.clinics[job.clinic], job.level)
        path = folder / (job.path.replace("/", "__")[: -len(".pdf")] + ".html")
        path.write_text(templates.html(handout, standalone=True), encoding="utf-8")
        paths.append(path)
    return paths


def plain_weasyprint_loop(html_files: list[Path], out: Path) -> float:
    import weasyprint

    started = time.perf_counter()
    for path in html_files:
        weasyprint.HTML(filename=str(path)).write_pdf(out / (path.stem + ".pdf"), pdf_variant="pdf/ua-1")
    return time.perf_counter() - started


def shell_loop(html_files: list[Path], out: Path) -> float:
    weasyprint = Path(sys.executable).parent / "weasyprint"
    script = "\n".join(f'"{weasyprint}" --pdf-variant pdf/ua-1 "{p}" "{out / (p.stem + ".pdf")}"' for p in html_files)
    started = time.perf_counter()
    subprocess.run(["bash", "-e", "-c", script], check=True, capture_output=True)
    return time.perf_counter() - started


WORKER_PEAK = """
import resource, sys
from handouts.cli import main
try:
    main(sys.argv[1:])
except SystemExit as done:
    assert not done.code, done.code
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def worker_peak_mib(root: Path, *argv: str) -> int:
    """Peak RSS of any worker of one `handouts build` run in a fresh process (MiB)."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER_PEAK, "--project", str(root), "build", "--quiet", "--force", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clinics", type=int, default=20)
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--shell-sample", type=int, default=20, help="handouts for the weasyprint-command loop")
    args = parser.parse_args()
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="handouts-bench-") as temporary:
        root = Path(temporary) / "project"
        root.mkdir()
        make_project(root, args.clinics, args.topics)
        project = loading.load_project(root)
        total = len(builder.plan(project).jobs)
        print(f"project: {args.clinics} clinics × {args.topics} topics × {len(project.levels)} levels = {total}")

        full, built = timed_build(project, jobs)
        peak_worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        noop, _ = timed_build(project, jobs, force=False)
        single, _ = timed_build(project, 1)

        html_dir = Path(temporary) / "html"
        html_dir.mkdir()
        html_files = write_html(project, html_dir)
        plain_out = Path(temporary) / "plain"
        plain_out.mkdir()
        plain = plain_weasyprint_loop(html_files, plain_out)
        step = max(1, len(html_files) // args.shell_sample)
        sample = html_files[::step][: args.shell_sample]  # spread over clinics, topics and levels
        shell = shell_loop(sample, plain_out)
        first_topics = [
            arg for topic in sorted(project.content_dir.glob("*.yaml"))[:1] for arg in ("--topic", topic.stem)
        ]
        short_peak = worker_peak_mib(root, "--jobs", str(jobs), *first_topics)
        long_peak = worker_peak_mib(root, "--jobs", str(jobs))
        short_count = len(builder.plan(project, topics=[first_topics[1]]).jobs)

    per = lambda seconds, count: 1000 * seconds / count  # noqa: E731
    build_ms, single_ms, plain_ms = per(full, built), per(single, built), per(plain, len(html_files))
    shell_ms = per(shell, len(sample))
    print(f"handouts build, {jobs} jobs:        {build_ms:8.1f} ms/handout  ({full:.1f} s for {built})")
    print(f"handouts build, 1 job:          {single_ms:8.1f} ms/handout  ({single:.1f} s)")
    print(f"plain WeasyPrint loop (floor):  {plain_ms:8.1f} ms/handout  ({plain:.1f} s, in-process, 1 core)")
    print(f"  overhead of build --jobs 1 over the floor: {100 * (single_ms / plain_ms - 1):+.1f} %  (target ≤ 5 %)")
    print(f"weasyprint command per handout: {shell_ms:8.1f} ms/handout  (shell loop over {len(sample)})")
    print(f"  build ({jobs} jobs) is {shell_ms / build_ms:.1f}× faster than the shell loop  (target ≥ 5×)")
    print(f"  build (1 job) is {shell_ms / single_ms:.1f}× faster than the shell loop")
    print(f"no-op rebuild: {noop:.2f} s = {100 * noop / full:.2f} % of the full build  (target ≤ 2 %)")
    print(f"peak RSS per worker: {peak_worker:.0f} MiB")
    print(
        f"peak RSS per worker, fresh build of {short_count} handouts: {short_peak} MiB;"
        f" of {total}: {long_peak} MiB ({long_peak - short_peak:+d} MiB)"
    )


if __name__ == "__main__":
    main()
