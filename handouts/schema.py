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
            "editions",
            "Editions `build` makes: `regular`, and `large` for large print (18 pt and up). Default: `[regular]`.",
            False,
            "[regular, large]",
        ),
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
        Key(
            "max_unfamiliar_percent",
            "Highest share of words off the familiar-word list (Dale-Chall), in % (HL104).",
            False,
            "12",
        ),
        Key("max_long_word_percent", "Highest share of words of three syllables or more, in % (HL105).", False, "10"),
        Key(
            "max_pages", "Page budget of one handout, checked after layout by `render` and `build` (HL106).", False, "2"
        ),
        Key("min_font_pt", "Smallest text the layout lint accepts, in points (HL505). Default 12.", False, "12"),
        Key(
            "min_inflesz",
            "Spanish text: lowest Szigriszt-Pazos score on the INFLESZ scale (0–100, higher is easier;"
            " 55–65 normal, 65–80 fairly easy) (HL108). English grades never apply to other languages.",
            False,
            "65",
        ),
        Key(
            "severity",
            "Severity of each rule at this level: `error`, `warning` or `off` (see *Severity*).",
            False,
            "{sentence_length: error}",
        ),
    ),
)

SEVERITY = Mapping(
    "Severity",
    "`handouts.yaml` → `levels.<id>.severity` (each `error`, `warning` or `off`; errors stop a build)",
    (
        Key("section_grade", "A section or a short text reads above `max_grade` (HL102). Default: warning.", False),
        Key("unfamiliar_words", "Too many unfamiliar words (HL104). Default: error.", False),
        Key("long_words", "Too many long words (HL105). Default: error.", False),
        Key("pages", "More pages than `max_pages` (HL106). Default: error.", False),
        Key("language_readability", "Spanish below `min_inflesz` (HL108). Default: error.", False),
        Key("sentence_length", "A sentence longer than `max_sentence_words` (HL201). Default: warning.", False),
        Key(
            "numbers", "Percentages, fractions, decimals at a `plain_language` level (HL203). Default: warning.", False
        ),
        Key("jargon", "A jargon word with no glossary entry (HL204). Default: warning.", False),
    ),
)

TOPIC = Mapping(
    "Topic",
    "`content/<topic>.yaml`",
    (
        Key("title", "The handout's title: one text, or one per level.", True, "Endplate sclerosis"),
        Key("synonyms", "Other names a reader or a search may use; a list of texts.", False, '["Modic changes"]'),
        Key("language", "BCP-47 language of the text; the PDF's `/Lang`.", True, "en"),
        Key(
            "status",
            "`draft` (printed on every page as not medically reviewed; `build` needs `--allow-drafts`)"
            " or `reviewed` (needs `review`).",
            True,
            "draft",
        ),
        Key("updated", "Date the text last changed (`YYYY-MM-DD`); printed, and the PDF's creation date.", True),
        Key(
            "next_review",
            "Date by which the text is reviewed again; printed; `check` warns once it has passed (HL014).",
            False,
            '"2027-11-01"',
        ),
        Key(
            "review", "The medical review that happened: `{reviewer, credentials, date}`; only with `reviewed`.", False
        ),
        Key("sources", "What the text was written from: a list of `{title, site, url}` (url https only).", False),
        Key("main_message", "The one sentence to remember, printed first: one text, or one per level.", True),
        Key(
            "glossary",
            "Terms explained in plain words, printed as “Words to know” when a level uses them; a definition is"
            " one text or one per level.",
            False,
        ),
        Key(
            "red_flags",
            "Signs that need help now, each `{sign, why}`, printed on page 1 with the emergency number:"
            " one list, or one per level.",
            True,
        ),
        Key(
            "figures",
            "Pictures in `content/<topic>/`: a list of `{file, section, alt, caption, levels}`; alt and caption"
            " are one text or one per level.",
            False,
        ),
        Key("my_plan", "Things the reader plans to do, printed with tick boxes: one list, or one per level.", False),
        Key("headings", "The topic's own heading for a section, by section id.", False),
        Key("sections", "The text: one Markdown text per section, or one per level (see *Sections*).", True),
    ),
)

REVIEW = Mapping(
    "Review",
    "`content/<topic>.yaml` → `review`",
    (
        Key("reviewer", "The name of the person who reviewed the text.", True, "Dr. Ana Silva"),
        Key("credentials", "Their qualifications.", True, "MD, spine surgeon"),
        Key("date", "When the review happened.", True, '"2026-11-01"'),
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
        Key("when_to_get_help", "When to call the clinic (not an emergency); printed with the clinic's phone.", False),
        Key("key_points", "A short list printed in a box near the top.", False),
        Key("questions_to_ask", "Questions the reader may ask the care team.", False),
        Key("self_care", "What the reader can do: numbered steps, with amounts where they apply.", False),
    ),
)

SOURCE = Mapping(
    "Source",
    "`content/<topic>.yaml` → `sources[]`",
    (
        Key("title", "Title of the source, printed.", True),
        Key("site", "Who publishes it, printed.", False, "MedlinePlus"),
        Key("url", "Its address; `https://` only.", False),
    ),
)

RED_FLAG = Mapping(
    "Red flag",
    "`content/<topic>.yaml` → `red_flags[]`",
    (
        Key("sign", "What the reader notices, in plain words.", True, "New weakness in your legs"),
        Key("why", "Why it matters: one short clause.", True, "a nerve may be badly pinched"),
    ),
)

FIGURE = Mapping(
    "Figure",
    "`content/<topic>.yaml` → `figures[]`",
    (
        Key("file", "An SVG, PNG or JPEG in `content/<topic>/`.", True, "spine.svg"),
        Key("section", "The section it is printed after.", True, "what_it_is"),
        Key("alt", "What the picture shows, for readers who cannot see it: one text or one per level.", True),
        Key("caption", "Printed under the picture: one text or one per level.", False),
        Key("levels", "Only these levels print it. Default: every level.", False, "[easy, standard]"),
    ),
)

CLINIC = Mapping(
    "Clinic",
    "`templates/clinics/<clinic>/clinic.yaml`",
    (
        Key("name", "The clinic's name, printed in the header and footer.", True, "Riverside Spine Center"),
        Key("logo", "SVG, PNG or JPEG file inside the clinic's folder.", True, "logo.svg"),
        Key("logo_alt", "Alt text of the logo. Default: “<name> logo”.", False),
        Key("logo_has_name", "`true` when the logo shows the clinic's name: the masthead leaves it out.", False),
        Key(
            "colors",
            "`{primary, accent}` hex colours in quotes; primary is used for text and checked for contrast.",
            True,
            '{primary: "#1d4e89", accent: "#f4a259"}',
        ),
        Key("paper", "`letter` or `a4`.", True, "letter"),
        Key("language", "The language this file's own texts are written in (BCP-47). Default: `en`.", False, "en"),
        Key(
            "languages",
            "Languages the clinic's handouts are printed in, the default first; each needs a complete"
            " translation of a topic (`content/translations/`) to be built. Default: `[<language>]`.",
            False,
            "[th, en]",
        ),
        Key(
            "translations",
            "Per language: `{name, disclaimer, about, address, logo_alt}` in that language; `disclaimer`"
            " (and `about`, when given above) are required for every language of `languages` other than `language`.",
            False,
            '{th: {disclaimer: "..."}}',
        ),
        Key(
            "editions",
            "`regular` and/or `large` (large print). Default: the project's `editions`.",
            False,
            "[regular, large]",
        ),
        Key("contact", "`{phone, website, address, email}`; phone is required.", True),
        Key("disclaimer", "Printed at the end of every handout.", True),
        Key("about", "A short clinic blurb printed at the end.", False),
    ),
)

CLINIC_TEXTS = Mapping(
    "Clinic texts in another language",
    "`clinic.yaml` → `translations` → `<language>`",
    (
        Key("name", "The clinic's name in that language. Default: `name`.", False),
        Key("disclaimer", "The disclaimer in that language.", True),
        Key("about", "The blurb in that language (required when `about` is given).", False),
        Key("address", "The postal address in that language. Default: `contact.address`.", False),
        Key("logo_alt", "The logo's alt text in that language.", False),
    ),
)

CONTACT = Mapping(
    "Contact",
    "`clinic.yaml` → `contact`",
    (
        Key("phone", "Printed in the footer and the help box.", True, '"+1 555 0100"'),
        Key(
            "emergency",
            "The local emergency number, printed in the “Get help now” box on page 1.",
            True,
            '"911"',
        ),
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

ALL = (
    PROJECT,
    LIMITS,
    LEVEL,
    SEVERITY,
    TOPIC,
    REVIEW,
    SECTIONS,
    SOURCE,
    RED_FLAG,
    FIGURE,
    CLINIC,
    CLINIC_TEXTS,
    CONTACT,
    COLORS,
)


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
