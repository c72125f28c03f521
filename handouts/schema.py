"""The keys of every file a user writes, each with a docstring: what ``loading``
accepts and what ``docs/reference/config.md`` lists (generated from here, like
MkDocs' ``config/defaults.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """One key of a YAML mapping: its name, whether it is required, and what it means."""

    name: str
    doc: str
    required: bool = False
    example: str = ""


@dataclass(frozen=True)
class Mapping:
    """A YAML mapping the loader reads: where it is and its keys."""

    title: str
    where: str
    keys: tuple[Key, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every allowed key."""
        return tuple(key.name for key in self.keys)

    @property
    def required(self) -> tuple[str, ...]:
        """The keys that must be present."""
        return tuple(key.name for key in self.keys if key.required)


PROJECT = Mapping(
    "Project",
    "`handouts.yaml`",
    (
        Key("levels", "Reading levels, easiest first; each is a mapping (see *Level*).", True),
        Key(
            "default_level",
            "The level `render` uses without `--level`. Default: `standard`, else the first.",
            False,
            "standard",
        ),
        Key("output", "Folder for generated files, inside the project.", False, "output"),
        Key("content", "Folder of topic files, inside the project.", False, "content"),
        Key("templates", "Folder of templates, fonts and `clinics/`, inside the project.", False, "templates"),
        Key("limits", "Size limits of input files (see *Limits*).", False),
        Key(
            "jargon",
            "Medical words added to the built-in jargon list (`handouts/data/jargon-en.txt`).",
            False,
            "[kyphoplasty]",
        ),
    ),
)

LIMITS = Mapping(
    "Limits",
    "`handouts.yaml` → `limits` (sizes in KiB; a larger file is refused with HL006)",
    (
        Key("topic_kib", "A topic file. Default 256.", False, "256"),
        Key("clinic_kib", "A clinic.yaml. Default 64.", False, "64"),
        Key("template_kib", "A template or stylesheet (base or a clinic's). Default 128.", False, "128"),
        Key("image_kib", "A logo or figure. Default 1024.", False, "1024"),
    ),
)

LEVEL = Mapping(
    "Level",
    "`handouts.yaml` → `levels.<id>`",
    (
        Key("label", "Name of the level as printed on the handout.", True, "Easy to read"),
        Key("max_grade", "Highest reading grade the level's text may measure (1–20).", True, "6"),
        Key("max_sentence_words", "Longer sentences are reported (HL201), 5–60.", False, "15"),
        Key("plain_language", "`true` turns on the number and jargon rules (HL203, HL204).", False, "true"),
    ),
)

TOPIC = Mapping(
    "Topic",
    "`content/<topic>.yaml`",
    (
        Key("title", "The handout's title: one text, or one per level.", True, "Endplate sclerosis"),
        Key("language", "BCP-47 language of the text; the PDF's `/Lang`.", True, "en"),
        Key(
            "reviewed",
            "Date of the medical review (`YYYY-MM-DD`); printed, and the PDF's creation date.",
            True,
            '"2026-11-01"',
        ),
        Key(
            "next_review",
            "Date by which the text is reviewed again; `check` warns once it has passed (HL014).",
            False,
            '"2027-11-01"',
        ),
        Key("reviewer", "Who did the medical review; printed.", True, "Spine care editorial team"),
        Key("sources", "Where the text comes from: a list of `{title, url}` (https only).", False),
        Key("glossary", "Terms explained in plain words, printed as “Words to know” when a level uses them.", False),
        Key("headings", "The topic's own heading for a section, by section id.", False),
        Key("sections", "The text: one Markdown text per section, or one per level (see *Sections*).", True),
    ),
)

SECTIONS = Mapping(
    "Sections",
    "`content/<topic>.yaml` → `sections`",
    (
        Key("what_it_is", "What the condition is.", True),
        Key("causes", "What causes it.", True),
        Key("symptoms", "What the reader may notice.", True),
        Key("treatment", "How it is treated.", True),
        Key("outlook", "What can change and what cannot.", True),
        Key("when_to_get_help", "When to contact the clinic; printed in a box with the clinic's phone.", False),
        Key("key_points", "A short list printed in a box near the top.", False),
        Key("questions_to_ask", "Questions the reader may ask the care team.", False),
        Key("self_care", "What the reader can do.", False),
    ),
)

SOURCE = Mapping(
    "Source",
    "`content/<topic>.yaml` → `sources[]`",
    (
        Key("title", "Title of the source, printed.", True),
        Key("url", "Its address; `https://` only.", True),
    ),
)

CLINIC = Mapping(
    "Clinic",
    "`templates/clinics/<clinic>/clinic.yaml`",
    (
        Key("name", "The clinic's name, printed in the header and footer.", True, "Riverside Spine Center"),
        Key("logo", "SVG, PNG or JPEG file inside the clinic's folder.", True, "logo.svg"),
        Key("logo_alt", "Alt text of the logo. Default: “<name> logo”.", False),
        Key(
            "colors",
            "`{primary, accent}` hex colours in quotes; primary is used for text and checked for contrast.",
            True,
            '{primary: "#1d4e89", accent: "#f4a259"}',
        ),
        Key("paper", "`letter` or `a4`.", True, "letter"),
        Key("language", "The clinic's language (BCP-47).", True, "en"),
        Key("contact", "`{phone, website, address, email}`; phone is required.", True),
        Key("disclaimer", "Printed at the end of every handout.", True),
        Key("about", "A short clinic blurb printed at the end.", False),
    ),
)

CONTACT = Mapping(
    "Contact",
    "`clinic.yaml` → `contact`",
    (
        Key("phone", "Printed in the footer and the help box.", True, '"+1 555 0100"'),
        Key("website", "`https://` address.", False),
        Key("address", "Postal address.", False),
        Key("email", "E-mail address.", False),
    ),
)

COLORS = Mapping(
    "Colours",
    "`clinic.yaml` → `colors`",
    (
        Key(
            "primary",
            "Headings, rules and some text; must reach 4.5:1 contrast on white and on the box tints.",
            True,
            '"#1d4e89"',
        ),
        Key("accent", "Decoration only, never text.", True, '"#f4a259"'),
    ),
)

ALL = (PROJECT, LIMITS, LEVEL, TOPIC, SECTIONS, SOURCE, CLINIC, CONTACT, COLORS)


def markdown_reference() -> str:
    """Every file's keys as the Markdown page ``docs/reference/config.md`` (generated)."""
    lines = [
        "# Configuration keys",
        "",
        "<!-- Generated from handouts/schema.py by `python -m handouts.schema`; do not edit by hand. -->",
        "",
        "Unknown keys are errors (HL002, with “did you mean”). Every value is read as text",
        "and converted on purpose: quote colours and dates.",
    ]
    for mapping in ALL:
        lines += [
            "",
            f"## {mapping.title}",
            "",
            f"In {mapping.where}.",
            "",
            "| key | required | meaning | example |",
            "|---|---|---|---|",
        ]
        for key in mapping.keys:
            example = f"`{key.example}`" if key.example else ""
            lines.append(f"| `{key.name}` | {'yes' if key.required else 'no'} | {key.doc} | {example} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_reference(), end="")
