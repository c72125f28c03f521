"""Benchmark: handouts build against the raw WeasyPrint engine, in one run.

Builds a generated project (copies of the sample clinics and topics) and measures,
in interleaved rounds, as whole processes on this machine:

  (a) ``handouts build --jobs 1 --force``
  (b) the raw WeasyPrint floor: one Python process rendering the same HTML (what
      ``render --html`` writes) with one FontConfiguration, stylesheets parsed
      once, a shared image cache and Python's default garbage collector
  (c) a shell loop calling the ``weasyprint`` command (on a sample)
  (d) ``handouts check`` and ``handouts --help`` (and ``python -c "import click"``)
  (e) a no-op rebuild, as a share of the full build
  (f) peak RSS of a build worker after 50 and after 1,000 handouts
  (g) the share of render time spent in our PDF finishing pass (artifacts, list bodies,
      figure boxes, link flags; handouts/finishing.py)

It prints medians with min–max and the ratios against the goals. Usage:

    .venv/bin/python bench/bench_build.py [--rounds 3] [--long 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from handouts import build as builder  # noqa: E402
from handouts import loading  # noqa: E402
from handouts.templates import Templates  # noqa: E402

PALETTE = ["#1d4e89", "#0b5d45", "#6a1b4d", "#7a3b00", "#263238", "#004d61", "#3e2a78", "#5b3000"]


def make_project(root: Path, clinics: int, topics: int) -> Path:
    """A project of ``clinics`` × ``topics`` made from the samples (clinic colours vary)."""
    root.mkdir(parents=True)
    config = (REPO / "handouts.yaml").read_text(encoding="utf-8")  # the regular edition: comparable across runs
    (root / "handouts.yaml").write_text(re.sub(r"(?m)^editions:.*$", "editions: [regular]", config))
    shutil.copytree(REPO / "templates", root / "templates")
    samples = sorted((REPO / "content").glob("*.yaml"))
    (root / "content").mkdir()
    for n in range(topics):
        source = samples[n % len(samples)]
        (root / "content" / f"{source.stem}-{n:02d}.yaml").write_text(source.read_text(encoding="utf-8"))
        assets = source.with_suffix("")
        if assets.is_dir():
            shutil.copytree(assets, root / "content" / f"{source.stem}-{n:02d}")
    base = sorted((root / "templates" / "clinics").iterdir())
    for n in range(clinics):
        source = base[n % len(base)]
        target = root / "templates" / "clinics" / f"clinic-{n:02d}"
        shutil.copytree(source, target)
        config = target / "clinic.yaml"
        text = re.sub(r'primary: "#[0-9a-f]{6}"', f'primary: "{PALETTE[n % len(PALETTE)]}"', config.read_text())
        # English only (generated topics have no translations), so drop the clinic's other-language texts
        text = re.sub(r"(?m)^languages: .*$", "languages: [en]", text).split("\ntranslations:")[0] + "\n"
        config.write_text(text.replace("name: ", f"name: Clinic {n:02d} ", 1))
    for source in base:
        shutil.rmtree(source)
    return root


CPU: list[float] = [0.0]  # CPU seconds (user + system) of the last process run, its children included


def run(*argv: str, cwd: Path | None = None) -> float:
    """Wall time of one whole process (it must succeed); its CPU time goes to ``CPU``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[0] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed


def handouts(root: Path, *argv: str) -> float:
    return run(str(BIN / "handouts"), "--project", str(root), *argv)


def write_html(root: Path, folder: Path) -> list[Path]:
    """The exact HTML each handout is made from, as standalone files linking their stylesheets."""
    project = loading.load_project(root)
    templates = Templates(project)
    the_plan = builder.plan(project)
    paths = []
    for job in the_plan.jobs:
        handout = templates.view(the_plan.topic(job), the_plan.clinics[job.clinic], job.level, job.edition)
        path = folder / (job.path.replace("/", "__")[: -len(".pdf")] + ".html")
        path.write_text(templates.html(handout, standalone=True), encoding="utf-8")
        paths.append(path)
    return paths


FLOOR = """
import re, sys
from pathlib import Path
import weasyprint
from weasyprint.text.fonts import FontConfiguration

out, base_url, files = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
fonts, cache, sheets = FontConfiguration(), {}, {}
link = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
for name in files:
    html = Path(name).read_text(encoding="utf-8")
    css = [sheets.setdefault(h, weasyprint.CSS(url=h, font_config=fonts)) for h in link.findall(html)]
    document = weasyprint.HTML(string=link.sub("", html), base_url=base_url)
    document.write_pdf(out / (Path(name).stem + ".pdf"), stylesheets=css, font_config=fonts, cache=cache,
                       pdf_variant="pdf/ua-1")
"""


def floor(html_files: list[Path], out: Path, base_url: str) -> float:
    return run(sys.executable, "-c", FLOOR, str(out), base_url, *map(str, html_files))


def shell_loop(html_files: list[Path], out: Path) -> float:
    script = "\n".join(f'"{BIN / "weasyprint"}" -q "{path}" "{out / (path.stem + ".pdf")}"' for path in html_files)
    return run("bash", "-e", "-c", script)


WORKER_PEAK = """
import os, resource, sys, threading, time
from pathlib import Path
from handouts.cli import main

private = [0]

def children():
    for task in Path("/proc/self/task").iterdir():
        yield from (task / "children").read_text().split()

def sample():  # a forked worker's RSS counts the parent's pages too; what it holds alone is private
    while True:
        for pid in children():
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
            except OSError:
                continue
            kib = sum(int(line.split()[1]) for line in rollup if line.startswith("Private_"))
            private[0] = max(private[0], kib)
        time.sleep(0.1)

threading.Thread(target=sample, daemon=True).start()
try:
    main(sys.argv[1:])
except SystemExit as done:
    assert not done.code, done.code
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, private[0] // 1024,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def worker_peak_mib(root: Path, *argv: str) -> tuple[int, ...]:
    """Peak RSS and peak private memory of any worker of one ``handouts build`` run, and the peak
    RSS of the build process itself, in a fresh process (MiB)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER_PEAK,
            "--project",
            str(root),
            "build",
            "--allow-drafts",
            "--quiet",
            "--force",
            *argv,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(map(int, result.stdout.strip().splitlines()[-1].split()))


FINISHING = """
import sys, time
from pathlib import Path
from handouts import finishing, loading, render
from handouts.build import plan
from handouts.templates import Templates

project = loading.load_project(Path(sys.argv[1]))
the_plan = plan(project)
templates = Templates(project)
documents = [
    templates.document(templates.view(the_plan.topic(j), the_plan.clinics[j.clinic], j.level, j.edition))
    for j in the_plan.jobs
]
spent = [0.0]
original = finishing.finish

def timed(*args, **kwargs):
    started = time.perf_counter()
    original(*args, **kwargs)
    spent[0] += time.perf_counter() - started

render.finish = timed
renderer = render.Renderer(project)
renderer.rendered(documents[0])
spent[0] = 0.0
started = time.perf_counter()
for document in documents:
    renderer.rendered(document)
print(spent[0] / (time.perf_counter() - started))
"""


def finishing_share(root: Path) -> float:
    result = subprocess.run([sys.executable, "-c", FINISHING, str(root)], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def summary(values: list[float], scale: float = 1.0) -> str:
    scaled = [value * scale for value in values]
    return f"{statistics.median(scaled):8.1f}  ({min(scaled):.1f}–{max(scaled):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clinics", type=int, default=10)
    parser.add_argument("--topics", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shell-sample", type=int, default=12, help="handouts for the weasyprint-command loop")
    parser.add_argument("--long", type=int, default=1000, help="handouts for the long RSS run (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handouts-bench-") as temporary:
        temp = Path(temporary)
        root = make_project(temp / "project", args.clinics, args.topics)
        count = len(builder.plan(loading.load_project(root)).jobs)
        html_dir, floor_out, shell_out = temp / "html", temp / "floor", temp / "shell"
        for folder in (html_dir, floor_out, shell_out):
            folder.mkdir()
        html_files = write_html(root, html_dir)
        base_url = (root / "templates").as_uri() + "/"
        sample = html_files[:: max(1, len(html_files) // args.shell_sample)][: args.shell_sample]
        print(
            f"project: {args.clinics} clinics × {args.topics} topics × 3 levels = {count} handouts;"
            f" {os.cpu_count()} cores; {args.rounds} interleaved rounds"
        )
        names = ["a", "b", "a_cpu", "b_cpu", "c", "check", "help", "click", "noop"]
        times: dict[str, list[float]] = {key: [] for key in names}
        for _ in range(args.rounds):
            times["a"].append(handouts(root, "build", "--allow-drafts", "--jobs", "1", "--force", "--quiet") / count)
            times["a_cpu"].append(CPU[0] / count)
            times["b"].append(floor(html_files, floor_out, base_url) / count)
            times["b_cpu"].append(CPU[0] / count)
            times["noop"].append(handouts(root, "build", "--allow-drafts", "--jobs", "1", "--quiet"))
            times["c"].append(shell_loop(sample, shell_out) / len(sample))
            times["check"].append(handouts(REPO, "check"))
            times["help"].append(run(str(BIN / "handouts"), "--help"))
            times["click"].append(run(sys.executable, "-c", "import click"))
        ratios = [a / b for a, b in zip(times["a"], times["b"], strict=True)]
        full_build = [a * count for a in times["a"]]
        print("\nms per handout (median, min–max):")
        print(f"  (a) handouts build --jobs 1 --force  {summary(times['a'], 1000)}")
        print(f"  (b) raw WeasyPrint floor             {summary(times['b'], 1000)}")
        print(f"  (c) weasyprint command, shell loop   {summary(times['c'], 1000)}")
        print(f"  (a)/(b) = {statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f})   goal ≤ 0.90")
        cpu = [a / b for a, b in zip(times["a_cpu"], times["b_cpu"], strict=True)]
        print(
            f"  CPU ms per handout, the build process and its worker together: (a) {summary(times['a_cpu'], 1000)},"
            f" (b) {summary(times['b_cpu'], 1000)}; (a)/(b) = {statistics.median(cpu):.3f}"
        )
        print(f"  (c)/(a) = {statistics.median(times['c']) / statistics.median(times['a']):.1f}× slower than build")
        print("\nwhole-process seconds (median, min–max):")
        print(f"  (d) handouts check on the samples    {summary(times['check'])}")
        help_ratio = statistics.median(times["help"]) / statistics.median(times["click"])
        print(f"  (d) handouts --help                  {summary(times['help'], 1000)} ms")
        print(
            f"      python -c 'import click'         {summary(times['click'], 1000)} ms"
            f"   ratio {help_ratio:.2f}   goal ≤ 1.5"
        )
        shares = [noop / full for noop, full in zip(times["noop"], full_build, strict=True)]
        print(
            f"  (e) no-op rebuild                    {summary(times['noop'])}"
            f"   = {100 * statistics.median(shares):.2f} % of a full build   goal ≤ 2 %"
        )
        share = finishing_share(root)
        print(f"  (g) PDF finishing pass: {100 * share:.2f} % of render time   budget ≤ 5 %")
        if args.long:
            topics = 17  # one clinic: 51 handouts; the whole project: about --long
            long_root = make_project(temp / "long", max(2, round(args.long / (3 * topics))), topics)
            long_count = len(builder.plan(loading.load_project(long_root)).jobs)
            short = worker_peak_mib(long_root, "--jobs", "2", "--clinic", "clinic-00")
            long = worker_peak_mib(long_root, "--jobs", "2")
            for index, what in enumerate(("worker peak RSS", "worker peak private memory", "build process peak RSS")):
                print(
                    f"  (f) {what} (--jobs 2): {short[index]} MiB after {3 * topics} handouts,"
                    f" {long[index]} MiB after {long_count} ({long[index] - short[index]:+d} MiB)"
                    + ("   goal: flat" if index < 2 else "")
                )


if __name__ == "__main__":
    main()
