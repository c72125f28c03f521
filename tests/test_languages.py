"""Every patient can read it: translations that never go stale silently, Thai and Spanish, large print.

Thai text is checked against PyThaiNLP (an independent word segmenter) and poppler's pdftotext
where it is installed; Spanish readability against textstat (a second implementation).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import polib
import pytest
from pypdf import PdfReader

from handouts import loading, markup, readability, translations
from handouts.commands.render import load_checked
from handouts.templates import Templates

from .helpers import run_cli
from .pdfcheck import assert_accessible, read_facts
from .samples import SAMPLE

ES_PO = Path("content/translations/es/endplate-sclerosis.po")
TH_PO = Path("content/translations/th/endplate-sclerosis.po")
CHANGED_EN = "Discs wear thin as we age. The bone grows thick to cope."  # causes, easy


def _po(project_dir: Path, relative: Path) -> polib.POFile:
    return polib.pofile(str(project_dir / relative), wrapwidth=0)


def _entry(po: polib.POFile, context: str) -> polib.POEntry:
    return next(entry for entry in po if entry.msgctxt == context and not entry.obsolete)


def _change_english(project_dir: Path) -> None:
    topic = project_dir / "content" / "endplate-sclerosis.yaml"
    text = topic.read_text(encoding="utf-8")
    assert CHANGED_EN in text
    topic.write_text(text.replace(CHANGED_EN, "Discs wear thin as we get older. The bone grows thick to cope."))


# ---------------------------------------------------------------- staleness: never silent


def test_changed_english_sentence_is_reported_and_refused_then_marked_fuzzy(
    project_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    _change_english(project_dir)
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    assert code == 1
    stale = [f for f in json.loads(out)["findings"] if f["code"] == "HL110"]
    for po_file in (ES_PO, TH_PO):  # the PO file and the line of the stale entry
        line = _entry(_po(project_dir, po_file), "sections.causes.easy#1").linenum
        assert any(f["file"] == str(po_file) and f["line"] == line and "changed" in f["message"] for f in stale)
    assert len(stale) == 2, stale  # exactly that unit, in both languages

    code, out, _ = run_cli(
        capsys, "build", "--allow-drafts", "--topic", "endplate-sclerosis", "--edition", "regular", "--format", "json"
    )
    summary = json.loads(out)
    refused = sorted(failure["handout"] for failure in summary["failed"])
    assert code == 1
    assert refused == [  # exactly the easy Spanish and Thai handouts of that topic
        "bangkok-regenerative/endplate-sclerosis.easy.th",
        "riverside-spine/endplate-sclerosis.easy.es",
    ]
    assert len(summary["built"]) == 12 - 2  # English everywhere, and es/th at the other levels

    code, out, _ = run_cli(capsys, "translate", "update", "endplate-sclerosis", "--lang", "es", "--lang", "th")
    assert code == 0 and "1 fuzzy" in out
    entry = _entry(_po(project_dir, ES_PO), "sections.causes.easy#1")
    assert entry.fuzzy and entry.previous_msgid == CHANGED_EN and entry.msgstr  # the old translation is kept
    code, out, _ = run_cli(capsys, "translate", "status", "endplate-sclerosis", "--format", "json")
    rows = {(row["language"], row["level"]): row for row in json.loads(out)["translations"]}
    assert rows[("es", "easy")]["fuzzy"] == 1 and not rows[("es", "easy")]["complete"]
    assert rows[("es", "standard")]["complete"]
    code, _, err = run_cli(capsys, "render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy",
                           "--language", "es", "--ignore-check", "-o", "x.pdf")  # fmt: skip
    assert code == 1 and "HL110" in err and "fuzzy" in err and not Path("x.pdf").exists()  # never bypassed

    po = _po(project_dir, ES_PO)  # the translator checks it and clears the flag
    _entry(po, "sections.causes.easy#1").flags.remove("fuzzy")
    po.save()
    code, _, err = run_cli(capsys, "render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy",
                           "--language", "es", "-o", "x.pdf")  # fmt: skip
    assert code == 0, err


def test_new_and_removed_units_become_untranslated_and_obsolete(project_dir: Path, capsys) -> None:
    topic = project_dir / "content" / "endplate-sclerosis.yaml"
    text = topic.read_text(encoding="utf-8")
    text = text.replace(
        "      Discs wear thin as we age. The bone grows thick to cope.\n",
        "      Discs wear thin as we age.\n\n      The bone grows thick to cope.\n",
    )
    topic.write_text(text)
    code, out, _ = run_cli(capsys, "translate", "update", "endplate-sclerosis", "--lang", "es")
    assert code == 0 and "1 new" in out and "1 fuzzy" in out, out
    po = _po(project_dir, ES_PO)
    assert not _entry(po, "sections.causes.easy#2").msgstr  # new: untranslated
    code, out, _ = run_cli(capsys, "check", "endplate-sclerosis", "--format", "json")
    messages = [f["message"] for f in json.loads(out)["findings"] if f["code"] == "HL110" and "/es/" in f["file"]]
    assert any("sections.causes.easy#2 is not translated" in m for m in messages)

    removed = text.replace('    - "I know the danger signs."\n', "")  # a plan item
    assert removed != text
    topic.write_text(removed)
    run_cli(capsys, "translate", "update", "endplate-sclerosis", "--lang", "es")
    obsolete = [entry for entry in _po(project_dir, ES_PO) if entry.obsolete]
    assert any(entry.msgctxt == "my_plan.easy#3" for entry in obsolete)
    assert '#~ msgctxt "my_plan.easy#3"' in (project_dir / ES_PO).read_text()


def test_untranslated_template_words_stop_the_handout(project_dir: Path, capsys) -> None:
    po = _po(project_dir, Path("templates/locale/es.po"))
    _entry_by_id = next(entry for entry in po if entry.msgid == "Words to know")
    _entry_by_id.msgstr = ""
    po.save()
    code, out, _ = run_cli(capsys, "check", "--clinic", "riverside-spine", "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["code"] == "HL110" and "'Words to know'" in f["message"]]
    assert code == 1 and found and "templates/locale/es.po" in found[0]["message"]


def test_clinic_languages_need_their_own_texts(project_dir: Path, capsys) -> None:
    clinic = project_dir / "templates" / "clinics" / "riverside-spine" / "clinic.yaml"
    text = clinic.read_text(encoding="utf-8")
    clinic.write_text(text.replace("languages: [en, es]", "languages: [en, es, pt]"))
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    assert code == 1
    assert any("'pt' needs translations.pt.disclaimer" in f["message"] for f in json.loads(out)["findings"])


def test_a_language_without_a_translation_is_a_warning_and_not_built(project_dir: Path, capsys) -> None:
    shutil.rmtree(project_dir / "content" / "translations" / "th")
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    warned = [f for f in json.loads(out)["findings"] if f["code"] == "HL111"]
    assert code == 0 and len(warned) == 2  # both topics
    code, out, _ = run_cli(capsys, "build", "--allow-drafts", "--clinic", "bangkok-regenerative", "--level", "easy",
                           "--edition", "regular", "--format", "json")  # fmt: skip
    summary = json.loads(out)
    assert code == 0 and sorted(summary["built"]) == [
        "bangkok-regenerative/endplate-sclerosis.easy.en.pdf",
        "bangkok-regenerative/subchondral-sclerosis.easy.en.pdf",
    ]
    assert any(note["code"] == "HL111" for note in summary["warnings"])


def test_a_figure_without_its_language_version_is_reported_hl112(project_dir: Path, capsys) -> None:
    (project_dir / "content" / "endplate-sclerosis" / "spine.es.svg").unlink()
    _, out, _ = run_cli(capsys, "check", "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["code"] == "HL112"]
    assert len(found) == 1 and "spine.es.svg" in found[0]["message"]


def test_translated_markdown_may_not_carry_html(project_dir: Path, capsys) -> None:
    po = _po(project_dir, ES_PO)
    _entry(po, "sections.causes.easy#1").msgstr = 'Los discos <img src="x.png"> se gastan.'
    po.save()
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    assert code == 1
    assert any(f["code"] == "HL110" and "raw HTML" in f["message"] for f in json.loads(out)["findings"])


# ---------------------------------------------------------------- reading level per language


def test_spanish_readability_matches_a_second_implementation() -> None:
    textstat = pytest.importorskip("textstat")
    topic = loading.load_topic(SAMPLE, "endplate-sclerosis")
    spanish = translations.localize(SAMPLE, topic, "es").topic
    textstat.set_lang("es")
    for level in SAMPLE.levels:
        ours = readability.measure_language(spanish, level)
        text = " ".join(passage.text for passage in ours.passages)
        theirs = textstat.szigriszt_pazos(text)
        # textstat counts Spanish syllables with a hyphenation dictionary (pyphen), which finds fewer
        # (it never splits off one letter at a word's edge: "a-gua"); ours counts vowel groups. So its
        # score is a little higher, never lower, and within a band's width (10-15 points).
        assert 0 <= theirs - ours.score < 9, (level, ours.score, theirs)
    assert [readability.spanish_syllables(w) for w in ("cartílago", "hueso", "leer", "día", "ciudad")] == [
        4,
        2,
        2,
        2,
        2,
    ]


def test_a_hard_spanish_text_is_refused_and_no_english_grade_is_printed(project_dir: Path, capsys) -> None:
    po = _po(project_dir, ES_PO)
    hard = (
        "La esclerosis discogénica vertebral constituye una manifestación radiológica característica de la "
        "degeneración intervertebral, consecuencia de microtraumatismos repetitivos y remodelación ósea reactiva."
    )
    for entry in po:
        if entry.msgctxt and re.match(r"sections\.\w+\.easy#", entry.msgctxt):
            entry.msgstr = hard
    po.save()
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert any(f["code"] == "HL108" and "'easy' in 'es'" in f["message"] for f in report["findings"])
    assert {row["topic"] + row["level"] for row in report["readability"]} == {
        f"{t}{lv}" for t in ("endplate-sclerosis", "subchondral-sclerosis") for lv in SAMPLE.levels
    }  # English grades: only the English texts
    languages = {(row["language"], row["band"]) for row in report["language_readability"]}
    assert ("th", "not measured") in languages and all(r["score"] is None for r in report["language_readability"]
                                                       if r["language"] == "th")  # fmt: skip


def test_thai_sentence_length_counts_thai_words(project_dir: Path, capsys) -> None:
    po = _po(project_dir, TH_PO)
    long_sentence = (
        "หมอนรองกระดูกสันหลังที่เสื่อมลงตามอายุทำให้กระดูกข้างเคียงต้องรับแรงมากขึ้นจึงค่อยๆแข็งและหนาขึ้นเรื่อยๆจนเห็นได้ในภาพเอกซเรย์"
    )
    _entry(po, "sections.causes.easy#1").msgstr = long_sentence
    po.save()
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["code"] == "HL201" and "/th/" in f["file"]]
    assert code == 1 and found and "word sentence" in found[0]["message"]


# ---------------------------------------------------------------- Thai on the page


def _thai_documents() -> list[tuple[str, str, bytes]]:
    """Every Thai sample handout (regular edition), rendered: (topic, level, PDF)."""
    return [(t, lv, _rendered(t, lv)) for t in ("endplate-sclerosis", "subchondral-sclerosis") for lv in SAMPLE.levels]


_CACHE: dict[tuple[str, str], bytes] = {}


def _rendered(topic_id: str, level: str) -> bytes:
    if (topic_id, level) not in _CACHE:
        from handouts.render import Renderer

        topics, clinic = load_checked(SAMPLE, [topic_id], "bangkok-regenerative", level, True, topic_id, "th")
        handout = Templates(SAMPLE).view(topics[topic_id], clinic, level)
        _CACHE[(topic_id, level)] = Renderer(SAMPLE).pdf(handout)
    return _CACHE[(topic_id, level)]


def _normal(text: str) -> str:
    """For comparing Thai text: no spaces or invisible breaks, compatibility forms, and NIKHAHIT after a
    tone mark (SARA AM under a tone mark is drawn, and extracted, as NIKHAHIT + tone + SARA AA)."""
    text = unicodedata.normalize("NFKC", text).replace("\u200b", "")
    text = re.sub(r"\u0e4d([\u0e48-\u0e4b])", "\\1\u0e4d", text)
    return re.sub(r"[\s.•]", "", text)


FURNITURE = re.compile(r"\+66 2 555 0199|หน้า\s*\d+\s*จาก\s*\d+|ฉบับร่าง")


def _body_text(pages: list[str], topic_id: str, level: str) -> str:
    """The pages' text without what is painted between the lines of a paragraph: the running header
    and footer (title, draft mark, clinic, page numbers) at a page break, and a floated figure's
    caption beside the text."""
    topic = translations.localize(SAMPLE, loading.load_topic(SAMPLE, topic_id), "th").topic
    kept = []
    for page in pages:
        for index, line in enumerate(page.splitlines()):
            running_title = index < 3 and _normal(line) == _normal(topic.titles[level])
            if not (FURNITURE.search(line) or running_title):
                kept.append(line)
    text = _normal("\n".join(kept))
    for figure in topic.figures:  # a caption is painted in one piece, wherever the float sits
        if level in figure.caption:
            text = text.replace(_normal(figure.caption[level].markdown), "", 1)
    return text


def _thai_paragraphs(topic_id: str, level: str) -> list[str]:
    topic = translations.localize(SAMPLE, loading.load_topic(SAMPLE, topic_id), "th").topic
    found = [topic.main_message[level].markdown, *(item.markdown for item in topic.my_plan[level])]
    for section in topic.sections.values():
        found += [block.text for block in markup.to_blocks(section.for_level(level).markdown)]
    return [re.sub(r"\*\*|\[|\]\([^)]*\)", "", text) for text in found]


@pytest.mark.parametrize("level", list(SAMPLE.levels))
def test_thai_pdf_has_its_language_font_and_text(level: str) -> None:
    for topic_id in ("endplate-sclerosis", "subchondral-sclerosis"):
        data = _rendered(topic_id, level)
        facts = read_facts(data)
        assert facts.language == "th"
        assert_accessible(data, "th")
        assert any("Handouts-Thai-Looped" in name for name in facts.embedded_fonts), facts.embedded_fonts
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
        extracted = _normal(_body_text(pages, topic_id, level))
        missing = [p for p in _thai_paragraphs(topic_id, level) if _normal(p) not in extracted]
        assert not missing, missing[:3]
        assert "ทํา" not in unicodedata.normalize("NFC", "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))  # fmt: skip  # SARA AM as one


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_thai_text_extracts_with_pdftotext(tmp_path: Path) -> None:
    for topic_id, level, data in _thai_documents():
        pdf = tmp_path / f"{topic_id}.{level}.pdf"
        pdf.write_bytes(data)
        text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        extracted = _normal(_body_text(text.split("\f"), topic_id, level))
        missing = [p for p in _thai_paragraphs(topic_id, level) if _normal(p) not in extracted]
        assert not missing, (topic_id, level, missing[:3])
        assert "ทำ" in text  # SARA AM extracts as SARA AM, not as SARA AA ("ทา", another word)


def test_no_line_ends_inside_a_thai_word() -> None:
    pythainlp = pytest.importorskip("pythainlp.tokenize")
    from handouts.render import Renderer

    renderer, checked = Renderer(SAMPLE), 0
    for topic_id, level, edition in itertools.product(
        ("endplate-sclerosis", "subchondral-sclerosis"), SAMPLE.levels, SAMPLE.editions
    ):
        topics, clinic = load_checked(SAMPLE, [topic_id], "bangkok-regenerative", level, True, topic_id, "th")
        document = renderer.layout(Templates(SAMPLE).view(topics[topic_id], clinic, level, edition))
        for block, source in _line_blocks(document):
            texts = [text.replace("\u200b", "") for text in block]
            joined, bounds, at = "".join(texts), set(), 0
            for word in pythainlp.word_tokenize(joined, engine="newmm"):
                at += len(word)
                bounds.add(at)
            end = 0
            for text, following in itertools.pairwise(texts):
                end += len(text)
                if re.search(r"[\u0e00-\u0e7f]$", text) and re.match(r"[\u0e00-\u0e7f]", following):
                    checked += 1
                    at_space = re.search(re.escape(text[-4:]) + r"\s+" + re.escape(following[:4]), source)
                    assert at_space or end in bounds, (
                        topic_id,
                        level,
                        edition,
                        text[-12:],
                        "|",
                        joined[end : end + 12],
                    )
    assert checked > 20  # many lines end between two Thai words: the test saw them


def _line_blocks(document) -> list[tuple[list[str], str]]:
    """The lines of every block of text (paragraph, list item), as laid out, with the block's own text
    (where a line ends at a space, the layout drops the space)."""
    blocks: list[tuple[list[str], str]] = []

    def text_of(box) -> str:
        if hasattr(box, "text"):
            return box.text
        return "".join(text_of(child) for child in getattr(box, "children", []))

    def walk(box, lines: list[str] | None) -> None:
        if type(box).__name__ == "LineBox":
            if lines is not None:
                lines.append(text_of(box))
            return
        children = getattr(box, "children", [])
        if any(type(child).__name__ == "LineBox" for child in children):
            lines = []
            element = getattr(box, "element", None)
            source = "".join(element.itertext()).replace("\u200b", "") if element is not None else ""
            blocks.append((lines, source))
        for child in children:
            walk(child, lines)

    for page in document.pages:
        walk(page._page_box, None)
    return [(lines, source) for lines, source in blocks if len(lines) > 1]


# ---------------------------------------------------------------- large print


def _text_sizes(data: bytes) -> list[tuple[float, str]]:
    """(size in points, text) of every piece of text drawn, from the PDF's own operators."""
    sizes = []
    for page in PdfReader(io.BytesIO(data)).pages:

        def visit(text, cm, tm, font, size, sizes=sizes):
            if text.strip():
                scale = abs(tm[3] * cm[3] + tm[1] * cm[2])  # the vertical scale of text space on the page
                sizes.append((size * scale, text))

        page.extract_text(visitor_text=visit)
    return sizes


@pytest.mark.parametrize(
    ("clinic", "language"), [("riverside-spine", "en"), ("riverside-spine", "es"), ("bangkok-regenerative", "th")]
)
def test_large_print_is_18_point_and_up_on_every_page(project_dir: Path, capsys, clinic: str, language: str) -> None:
    for edition, name in (("large", "x.large.pdf"), ("regular", "x.pdf")):
        argv = ["--level", "standard", "--language", language, "--edition", edition, "-o", name]
        code, _, err = run_cli(capsys, "render", "subchondral-sclerosis", "--clinic", clinic, *argv)
        assert code == 0, err
    large, regular = _text_sizes(Path("x.large.pdf").read_bytes()), _text_sizes(Path("x.pdf").read_bytes())
    assert len(large) > 100
    too_small = [(round(size, 1), text) for size, text in large if size < 17.95]
    assert not too_small, too_small[:5]
    assert min(size for size, _ in regular) < 17  # the regular edition is smaller: the measure can tell
    assert read_facts(Path("x.large.pdf").read_bytes()).pages > read_facts(Path("x.pdf").read_bytes()).pages


def test_large_print_layout_rules() -> None:
    from handouts.render import Renderer

    topics, clinic = load_checked(SAMPLE, ["endplate-sclerosis"], "riverside-spine", "easy", True, "x", "en")
    document = Renderer(SAMPLE).layout(Templates(SAMPLE).view(topics["endplate-sclerosis"], clinic, "easy", "large"))
    boxes, reading = [], []

    def walk(box, in_main: bool) -> None:
        in_main = in_main or getattr(box, "element_tag", "") == "main"
        boxes.append(box)
        if in_main and getattr(box, "element_tag", "") in ("p", "li"):
            reading.append(box)
        for child in getattr(box, "children", []):
            walk(child, in_main)

    for page in document.pages:
        walk(page._page_box, False)
    text_boxes = [box for box in boxes if type(box).__name__ == "TextBox" and box.text.strip()]
    assert text_boxes and all(box.style["font_style"] == "normal" for box in text_boxes)  # no italics
    paragraphs = reading  # the reading text: paragraphs and list items of <main> (not the masthead)
    assert len(paragraphs) > 20
    assert all(box.style["text_align_all"] in ("left", "start") for box in paragraphs)
    spacing = {box.style["line_height"] for box in paragraphs}
    assert all(isinstance(value, float) and value >= 1.5 for value in spacing), spacing  # 1.5 times the type
    tints = {  # no text over a tint: every box behind the reading text is white or transparent
        tuple(box.style["background_color"])
        for box in boxes
        if box.style["background_color"].alpha and tuple(box.style["background_color"])[:3] != (1, 1, 1)
    }
    assert not tints, tints


def test_thai_packet_and_spanish_personal_copy_conform(project_dir: Path, capsys) -> None:
    from .conformance import assert_conforms

    argv = ["packet", "endplate-sclerosis", "subchondral-sclerosis", "--clinic", "bangkok-regenerative"]
    assert run_cli(capsys, *argv, "--level", "easy", "-o", "packet.pdf")[0] == 0
    packet = Path("packet.pdf").read_bytes()
    assert_conforms(packet)  # links in the Thai contents stay inside their /Link elements
    assert read_facts(packet).language == "th"
    argv = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy", "--language", "es"]
    code, _, err = run_cli(capsys, *argv, "--for", "A. Paciente", "--date", "2026-12-06", "-o", "copy.pdf")
    assert code == 0, err
    copy = Path("copy.pdf").read_bytes()
    assert_conforms(copy)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(copy)).pages)
    assert "Preparado para A. Paciente" in text and "6 de diciembre de 2026" in text


def test_a_broken_po_file_fails_its_language_only_hl113(project_dir: Path, capsys) -> None:
    po = project_dir / TH_PO
    po.write_text(po.read_text(encoding="utf-8") + "this is not a PO line\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "check", "--format", "json")
    found = [f for f in json.loads(out)["findings"] if f["code"] == "HL113"]
    assert code == 1 and found and found[0]["file"] == str(TH_PO) and found[0]["line"] > 1000
    es = project_dir / ES_PO  # a review that did not happen
    es.write_text(es.read_text(encoding="utf-8").replace("X-Handouts-Status: draft", "X-Handouts-Status: reviewed"))
    argv = ["--level", "easy", "--edition", "regular", "--format", "json"]
    code, out, _ = run_cli(capsys, "build", "--allow-drafts", "--topic", "endplate-sclerosis", *argv)
    summary = json.loads(out)
    failed = {f["handout"]: f["diagnostics"][0]["code"] for f in summary["failed"]}
    assert code == 1 and failed == {
        "translation endplate-sclerosis.th": "HL113",
        "translation endplate-sclerosis.es": "HL113",
    }
    assert sorted(summary["built"]) == [  # English still builds
        "bangkok-regenerative/endplate-sclerosis.easy.en.pdf",
        "riverside-spine/endplate-sclerosis.easy.en.pdf",
    ]


def test_a_reviewed_text_with_a_draft_translation_says_so_and_needs_allow_drafts(project_dir: Path, capsys) -> None:
    topic = project_dir / "content" / "endplate-sclerosis.yaml"
    review = 'review: {reviewer: "Dr. Test Person", credentials: "MD, test reviewer", date: "2026-11-01"}\n'
    topic.write_text(topic.read_text(encoding="utf-8").replace("status: draft\n", "status: reviewed\n" + review))
    argv = ["--topic", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy", "--edition", "regular"]
    code, out, _ = run_cli(capsys, "build", *argv, "--format", "json")
    summary = json.loads(out)
    assert code == 1 and summary["built"] == ["riverside-spine/endplate-sclerosis.easy.en.pdf"]
    assert [f["handout"] for f in summary["failed"]] == ["riverside-spine/endplate-sclerosis.easy.es"]
    assert run_cli(capsys, *["build", *argv, "--allow-drafts"])[0] == 0
    reader = PdfReader(io.BytesIO((project_dir / "output/riverside-spine/endplate-sclerosis.easy.es.pdf").read_bytes()))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) == 2 and all("BORRADOR — traducción sin revisar" in page for page in pages)  # every page
    text = " ".join(pages)
    assert "Un traductor médico calificado aún no" in text or "aún no la revisó un traductor médico" in text
    english = PdfReader(
        io.BytesIO((project_dir / "output/riverside-spine/endplate-sclerosis.easy.en.pdf").read_bytes())
    )
    assert "DRAFT" not in " ".join(page.extract_text() for page in english.pages)
