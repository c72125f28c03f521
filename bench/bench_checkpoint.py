"""Benchmark: what checkpointing the manifest costs during a build.

``build`` rewrites ``manifest.json`` (atomically, fsynced) every
``CHECKPOINT_EVERY`` new outputs or ``CHECKPOINT_SECONDS``, whichever comes
first, and never sooner than ``CHECKPOINT_SPACING`` times the last write took.
This measures one write at several manifest sizes and prints the worst share of
build time it can take, and how much work a kill can lose at most. Usage:

    .venv/bin/python bench/bench_checkpoint.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from handouts.build import CHECKPOINT_EVERY, CHECKPOINT_SECONDS, CHECKPOINT_SPACING
from handouts.manifest import Entry, write_manifest


def entries(count: int) -> dict[str, Entry]:
    """``count`` realistic manifest entries."""
    made = {}
    for n in range(count):
        path = f"clinic-{n % 100:03d}/topic-{n // 100:03d}.standard.en.pdf"
        made[path] = Entry(
            clinic=path.split("/")[0],
            topic=f"topic-{n // 100:03d}",
            level="standard",
            language="en",
            path=path,
            bytes=40_000 + n,
            pages=3,
            sha256="ab" * 32,
            input_key="cd" * 32,
            title=f"Topic {n}",
            reviewed="2026-11-01",
            reading_grade=7.3,
            thumbnail=None,
        )
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    print(f"checkpoint: every {CHECKPOINT_EVERY} outputs or {CHECKPOINT_SECONDS:g} s")
    print(f"{'entries':>8} {'write ms (median, min-max)':>28} {'worst share of build time':>27} {'gap s':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for count in (120, 1_000, 10_000):
            made = entries(count)
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                write_manifest(Path(folder), made)
                times.append((time.perf_counter() - started) * 1000)
            median = statistics.median(times)
            share = median / 1000 / max(CHECKPOINT_SECONDS, CHECKPOINT_SPACING * median / 1000) * 100
            gap = max(CHECKPOINT_SECONDS, CHECKPOINT_SPACING * median / 1000)
            print(f"{count:>8} {median:>14.1f} ({min(times):.1f}-{max(times):.1f}) {share:>26.1f} % {gap:>6.1f}")


if __name__ == "__main__":
    main()
