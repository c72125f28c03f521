"""The sample project's matrix, for tests parametrized over every sample output."""

from __future__ import annotations

from handouts import loading

from .conftest import REPO

SAMPLE = loading.load_project(REPO)
CASES = [
    (clinic, topic, level)
    for clinic in loading.clinic_ids(SAMPLE)
    for topic in loading.topic_ids(SAMPLE)
    for level in SAMPLE.levels
]
