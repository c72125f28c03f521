"""``handouts list``: what a project holds, with titles and names, for people to choose from."""

from __future__ import annotations

from dataclasses import dataclass

from .. import loading
from ..errors import HandoutsError
from ..models import Level, Project


@dataclass(frozen=True)
class Item:
    """A topic or clinic: its id and its title or name (or why it cannot be loaded)."""

    id: str
    name: str
    problem: str = ""


@dataclass(frozen=True)
class Inventory:
    """The project's topics, clinics and levels."""

    topics: list[Item]
    clinics: list[Item]
    levels: list[Level]
    default_level: str

    def as_dict(self) -> dict:
        """The JSON shape of ``list --format json``."""

        def items(found: list[Item], key: str) -> list[dict]:
            return [{"id": i.id, key: i.name, **({"problem": i.problem} if i.problem else {})} for i in found]

        return {
            "topics": items(self.topics, "title"),
            "clinics": items(self.clinics, "name"),
            "levels": [
                {"id": lv.id, "label": lv.label, "max_grade": lv.max_grade, "default": lv.id == self.default_level}
                for lv in self.levels
            ],
        }


def inventory(project: Project) -> Inventory:
    """Every topic with its title and every clinic with its name; a file that does not load says so."""
    topics, clinics = [], []
    for topic_id in loading.topic_ids(project):
        try:
            topic = loading.load_topic(project, topic_id)
            topics.append(Item(topic_id, topic.titles.get(project.default_level) or next(iter(topic.titles.values()))))
        except HandoutsError as error:
            topics.append(Item(topic_id, "", f"{len(error.diagnostics)} problem(s): run 'handouts check'"))
    for clinic_id in loading.clinic_ids(project):
        try:
            clinics.append(Item(clinic_id, loading.load_clinic(project, clinic_id).name))
        except HandoutsError as error:
            clinics.append(Item(clinic_id, "", f"{len(error.diagnostics)} problem(s): run 'handouts check'"))
    return Inventory(topics, clinics, list(project.levels.values()), project.default_level)
