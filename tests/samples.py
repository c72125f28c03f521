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
# Every output: each clinic's languages, regular and large print.
OUTPUTS = [
    f"{clinic}/{topic}.{level}.{language}{'' if edition == 'regular' else '.large'}.pdf"
    for clinic, topic, level in CASES
    for language in loading.load_clinic(SAMPLE, clinic).printed_languages
    for edition in SAMPLE.editions
]
