"""Portal-ready output: accessible tagged PDFs, PDF/A, metadata, FHIR, packets, personalised copies."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts.thumbnails import THUMBNAIL_WIDTH

from .helpers import GOOD_TOPIC, files_under, run_cli, write_topic
from .pdfcheck import assert_accessible, qpdf_check, read_facts
from .samples import CASES

TOPIC, CLINIC = "endplate-sclerosis", "riverside-spine"


def render_args(*extra: str) -> list[str]:
    return ["render", TOPIC, "--clinic", CLINIC, "--level", "easy", *extra]


# ---------------------------------------------------------------- accessible by default


@pytest.mark.parametrize(("clinic_id", "topic_id", "level"), CASES)
def test_every_sample_is_accessible_and_valid(built_samples: Path, clinic_id: str, topic_id: str, level: str) -> None:
    data = (built_samples / clinic_id / f"{topic_id}.{level}.en.pdf").read_bytes()
    headings = assert_accessible(data)
    assert headings.count("H1") == 1
    qpdf_check(data)


@pytest.mark.parametrize(
    ("partial", "content", "problem"),
    [
        ("partials/header.html", '<img src="{{ logo_url }}">', "has no alt text"),
        ("partials/title.html", "<h1>{{ handout.title }}</h1><h3>Skipped</h3>", "a heading level is skipped"),
    ],
)
def test_inaccessible_templates_fail_the_handout(project_dir: Path, capsys, partial, content, problem) -> None:
    override = project_dir / "templates" / "clinics" / CLINIC / partial
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(content + "\n")
    code, _, err = run_cli(capsys, *render_args("-o", "x.pdf"))
    assert code == 1
    assert problem in err and "error HL404" in err
    assert not (project_dir / "x.pdf").exists()


def test_document_without_language_fails(project_dir: Path, capsys) -> None:
    layout = project_dir / "templates" / "handout.html"
    layout.write_text(layout.read_text().replace('<html lang="{{ handout.language }}">', "<html>"))
    code, _, err = run_cli(capsys, *render_args("-o", "x.pdf"))
    assert code == 1 and "the document has no language" in err


# ---------------------------------------------------------------- variants and metadata


def xmp(data: bytes) -> str:
    return PdfReader(io.BytesIO(data)).trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def test_archival_variant_is_pdf_a_and_pdf_ua(project_dir: Path, capsys) -> None:
    assert run_cli(capsys, *render_args("--pdf-variant", "pdf/a-3a", "-o", "a.pdf"))[0] == 0
    data = (project_dir / "a.pdf").read_bytes()
    metadata = xmp(data)
    assert 'pdfaid:part="3"' in metadata and 'pdfaid:conformance="A"' in metadata
    assert 'pdfuaid:part="1"' in metadata
    assert_accessible(data)
    assert b"/OutputIntents" in data or "/OutputIntents" in PdfReader(io.BytesIO(data)).trailer["/Root"]
    qpdf_check(data)


def test_default_variant_claims_pdf_ua_and_plain_is_untagged(project_dir: Path, capsys) -> None:
    assert run_cli(capsys, *render_args("-o", "ua.pdf"))[0] == 0
    assert 'pdfuaid:part="1"' in xmp((project_dir / "ua.pdf").read_bytes())
    assert run_cli(capsys, *render_args("--pdf-variant", "plain", "-o", "plain.pdf"))[0] == 0
    assert not read_facts((project_dir / "plain.pdf").read_bytes()).tagged


def test_metadata(built_samples: Path) -> None:
    reader = PdfReader(built_samples / CLINIC / f"{TOPIC}.detailed.en.pdf")
    info = reader.metadata
    assert info["/Title"] == "Endplate sclerosis (Detailed)"
    assert info["/Author"] == "Riverside Spine Center"
    assert info["/Subject"] == "Patient information: Endplate sclerosis"
    assert "Endplate sclerosis" in info["/Keywords"] and "Detailed" in info["/Keywords"]
    assert info["/CreationDate"].startswith("D:20261101")  # the review date, not the clock
    assert str(reader.trailer["/Root"]["/Lang"]) == "en"


# ---------------------------------------------------------------- FHIR


def test_fhir_export_validates_with_a_fhir_library(project_dir: Path, capsys) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.documentreference import DocumentReference

    assert run_cli(capsys, "build", "--level", "easy", "--jobs", "2", "--fhir")[0] == 0
    output = project_dir / "output"
    manifest = json.loads((output / "manifest.json").read_text())["outputs"]
    for entry in manifest:
        path = output / "fhir" / entry["clinic"] / (Path(entry["path"]).stem + ".json")
        document = json.loads(path.read_text())
        DocumentReference.model_validate(document)
        attachment = document["content"][0]["attachment"]
        data = (output / attachment["url"]).read_bytes()
        assert attachment["hash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
        assert attachment["size"] == len(data) == entry["bytes"]
        assert attachment["contentType"] == "application/pdf" and attachment["language"] == "en"
        assert attachment["title"] == entry["title"] and attachment["creation"] == "2026-11-01"
        assert document["status"] == "current" and document["docStatus"] == "final"
        assert document["type"]["coding"][0]["code"] == "34895-3"
    for clinic_id in ("riverside-spine", "bangkok-regenerative"):
        bundle = json.loads((output / "fhir" / f"{clinic_id}.bundle.json").read_text())
        Bundle.model_validate(bundle)
        organization = bundle["entry"][0]
        assert organization["resource"]["resourceType"] == "Organization"
        for item in bundle["entry"][1:]:
            assert item["resource"]["custodian"]["reference"] == organization["fullUrl"]
    first = {p: p.read_bytes() for p in files_under(output / "fhir")}
    assert run_cli(capsys, "export", "fhir")[0] == 0
    assert {p: p.read_bytes() for p in files_under(output / "fhir")} == first  # stable: same inputs, same JSON


def test_fhir_embed(project_dir: Path, capsys, tmp_path: Path) -> None:
    from fhir.resources.R4B.documentreference import DocumentReference

    assert run_cli(capsys, "build", "--clinic", CLINIC, "--topic", TOPIC, "--level", "easy", "--jobs", "1")[0] == 0
    assert run_cli(capsys, "export", "fhir", "--embed", "-o", str(tmp_path / "fhir"))[0] == 0
    document = json.loads((tmp_path / "fhir" / CLINIC / f"{TOPIC}.easy.en.json").read_text())
    DocumentReference.model_validate(document)
    attachment = document["content"][0]["attachment"]
    assert "url" not in attachment
    built = project_dir / "output" / CLINIC / f"{TOPIC}.easy.en.pdf"
    assert base64.b64decode(attachment["data"]) == built.read_bytes()


def test_fhir_export_needs_a_build(project_dir: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "export", "fhir")
    assert code == 2 and "run 'handouts build' first" in err


# ---------------------------------------------------------------- packets


def test_packet(project_dir: Path, capsys) -> None:
    topics = ["endplate-sclerosis", "subchondral-sclerosis"]
    argv = ["packet", *topics, "--clinic", CLINIC, "--level", "standard", "-o", "packet.pdf"]
    assert run_cli(capsys, *argv)[0] == 0
    data = (project_dir / "packet.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    outline = {
        item.title: reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list)
    }
    assert outline["Information for you"] == 1
    assert 1 < outline["Endplate sclerosis"] < outline["Subchondral sclerosis"] <= pages
    cover = reader.pages[0].extract_text()
    assert f"Endplate sclerosis — page {outline['Endplate sclerosis']}" in cover
    assert f"Subchondral sclerosis — page {outline['Subchondral sclerosis']}" in cover
    assert f"Page {pages} of {pages}" in reader.pages[-1].extract_text()
    assert_accessible(data)
    qpdf_check(data)
    facts = read_facts(data)
    assert len(facts.embedded_fonts) == len(set(facts.embedded_fonts)) <= 4  # fonts embedded once, not per topic
    singles = 0
    for topic in topics:
        assert run_cli(capsys, "render", topic, "--clinic", CLINIC, "--level", "standard", "-o", f"{topic}.pdf")[0] == 0
        singles += (project_dir / f"{topic}.pdf").stat().st_size
    assert len(data) < singles


def test_packet_gate_and_usage(project_dir: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "packet", TOPIC, TOPIC, "--clinic", CLINIC, "-o", "p.pdf")
    assert code == 2 and "each topic once" in err
    code, _, err = run_cli(capsys, "packet", "--clinic", CLINIC, "-o", "p.pdf")
    assert code == 2 and "Missing argument 'TOPICS...'" in err
    hard = "Subchondral osteosclerosis necessitates comprehensive multidisciplinary radiographic evaluation."
    write_topic(project_dir, GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{hard}"'))
    argv = ["packet", TOPIC, "test-topic", "--clinic", CLINIC, "--level", "easy", "-o", "p.pdf"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1
    assert "packet × riverside-spine × easy: refused: it does not pass 'handouts check'" in err
    assert "content/test-topic.yaml:1:1: error HL101" in err
    assert not (project_dir / "p.pdf").exists()
    assert run_cli(capsys, *argv, "--ignore-check")[0] == 0
    assert (project_dir / "p.pdf").read_bytes().startswith(b"%PDF-")


# ---------------------------------------------------------------- personalised copies


def test_personalised_copy_keeps_patient_data_on_the_page(
    project_dir: Path, capsys, caplog: pytest.LogCaptureFixture
) -> None:
    canary = f"Canary{uuid.uuid4().hex[:12]}"
    note = f"Walk daily. Call {canary}-note if worse."
    caplog.set_level(logging.DEBUG)
    started = time.time()
    personal = ["--for", f"Ada {canary}", "--note", note, "--date", "2026-11-21"]
    code, _, err = run_cli(capsys, *render_args(*personal))
    assert code == 2 and "needs -o FILE" in err  # never into the shared output folder by default
    code, out, err = run_cli(capsys, *render_args(*personal, "-o", "copy-for-patient.pdf"))
    assert code == 0, err
    data = (project_dir / "copy-for-patient.pdf").read_bytes()
    assert files_under(project_dir / "output") == []

    first_page = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert f"Prepared for Ada {canary}" in first_page
    assert "Notes from your care team" in first_page and f"{canary}-note" in first_page
    assert "21 November 2026" in first_page

    assert canary not in out + err
    assert all(canary not in record.getMessage() for record in caplog.records)
    reader = PdfReader(io.BytesIO(data))
    assert all(canary not in str(value) for value in reader.metadata.values())
    assert canary not in xmp(data)
    for path in files_under(project_dir):  # file names and contents: output, any manifest or cache
        assert canary not in str(path)
        assert canary.encode() not in path.read_bytes(), path
    for folder, _, names in os.walk(tempfile.gettempdir()):  # os.walk skips folders that vanish meanwhile
        for name in names:
            path = Path(folder) / name
            try:
                recent = path.stat().st_mtime >= started and path.stat().st_size < 5_000_000
                data = path.read_bytes() if recent else b""
            except OSError:
                continue
            assert canary.encode() not in data, path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--note", "x"], "give --for NAME too"),
        (["--for", "Ada", "--date", "21/11/2026"], "expected a date like"),
        (["--for", " "], "a name of 1 to 100 characters"),
    ],
)
def test_personal_options_are_checked(project_dir: Path, capsys, extra: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, *render_args(*extra))
    assert code == 2 and message in err


# ---------------------------------------------------------------- thumbnails


def test_thumbnails_beside_pdfs_and_in_manifest(project_dir: Path, capsys) -> None:
    assert run_cli(capsys, "build", "--clinic", CLINIC, "--level", "easy", "--jobs", "1", "--thumbnail")[0] == 0
    output = project_dir / "output"
    for entry in json.loads((output / "manifest.json").read_text())["outputs"]:
        assert entry["thumbnail"] == entry["path"][: -len(".pdf")] + ".png"
        png = (output / entry["thumbnail"]).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(png[16:20], "big") == THUMBNAIL_WIDTH
    assert run_cli(capsys, *render_args("-o", "one.pdf", "--thumbnail"))[0] == 0
    assert (project_dir / "one.png").read_bytes().startswith(b"\x89PNG")
