"""Portal-ready output: accessible tagged PDFs, PDF/A, metadata, FHIR, packets, personalised copies."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from handouts.thumbnails import THUMBNAIL_WIDTH

from .helpers import GOOD_TOPIC, files_under, line_of, run_cli, write_topic
from .pdfcheck import read_facts

TOPIC, CLINIC = "endplate-sclerosis", "riverside-spine"


def render_args(*extra: str) -> list[str]:
    return ["render", TOPIC, "--clinic", CLINIC, "--level", "easy", *extra]


# ---------------------------------------------------------------- accessible by default


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


def test_metadata(built_samples: Path) -> None:
    reader = PdfReader(built_samples / CLINIC / f"{TOPIC}.detailed.en.pdf")
    info = reader.metadata
    assert info["/Title"] == "Endplate sclerosis (Full detail)"
    assert info["/Author"] == "Riverside Spine Center"
    assert info["/Subject"] == "Patient information: Endplate sclerosis"
    assert "Endplate sclerosis" in info["/Keywords"] and "Full detail" in info["/Keywords"]
    assert info["/CreationDate"].startswith("D:20261122")  # the date the text changed, not the clock
    assert str(reader.trailer["/Root"]["/Lang"]) == "en"


# ---------------------------------------------------------------- FHIR


def test_fhir_export_validates_with_a_fhir_library(project_dir: Path, capsys) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.documentreference import DocumentReference

    assert run_cli(capsys, "build", "--allow-drafts", "--level", "easy", "--jobs", "2", "--fhir")[0] == 0
    output = project_dir / "output"
    manifest = json.loads((output / "manifest.json").read_text())["outputs"]
    assert {entry["language"] for entry in manifest} == {"en", "es", "th"}  # each clinic's two languages
    for entry in manifest:
        path = output / "fhir" / entry["clinic"] / (Path(entry["path"]).stem + ".json")
        document = json.loads(path.read_text())
        DocumentReference.model_validate(document)
        attachment = document["content"][0]["attachment"]
        data = (output / attachment["url"]).read_bytes()
        assert attachment["hash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
        assert attachment["size"] == len(data) == entry["bytes"]
        assert attachment["contentType"] == "application/pdf" and attachment["language"] == entry["language"]
        assert attachment["title"] == entry["title"] and attachment["creation"] == "2026-11-22"
        assert document["status"] == "current" and document["docStatus"] == "preliminary"  # the samples are drafts
        assert document["type"]["coding"][0]["code"] == "34895-3"
        assert "subject" not in document  # a generic handout is about no patient
        custodian = document["custodian"]["reference"]  # resolves on its own: a contained Organization
        [contained] = [r for r in document["contained"] if f"#{r['id']}" == custodian]
        assert contained["resourceType"] == "Organization" and contained["name"] == document["custodian"]["display"]
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


def test_fhir_transaction_bundle_with_absolute_urls(project_dir: Path, capsys) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.documentreference import DocumentReference

    assert run_cli(capsys, "build", "--allow-drafts", "--clinic", CLINIC, "--level", "easy", "--jobs", "1")[0] == 0
    argv = ["export", "fhir", "--base-url", "https://example.org/handouts/", "--bundle", "transaction"]
    assert run_cli(capsys, *argv)[0] == 0
    output = project_dir / "output"
    bundle = json.loads((output / "fhir" / f"{CLINIC}.bundle.json").read_text())
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction"
    organization, *documents = bundle["entry"]
    assert organization["request"] == {"method": "PUT", "url": f"Organization/{organization['resource']['id']}"}
    for item in documents:
        resource = item["resource"]
        assert item["request"] == {"method": "PUT", "url": f"DocumentReference/{resource['id']}"}
        assert resource["custodian"]["reference"] == organization["request"]["url"]
        url = resource["content"][0]["attachment"]["url"]
        assert url.startswith("https://example.org/handouts/riverside-spine/") and url.endswith(".pdf")
        assert (output / url.removeprefix("https://example.org/handouts/")).is_file()
    single = json.loads((output / "fhir" / CLINIC / f"{TOPIC}.easy.en.json").read_text())
    DocumentReference.model_validate(single)
    assert single["content"][0]["attachment"]["url"] == f"https://example.org/handouts/{CLINIC}/{TOPIC}.easy.en.pdf"
    code, _, err = run_cli(capsys, "export", "fhir", "--base-url", "ftp://example.org/x")
    assert code == 2 and "expected an address like https://" in err


def test_fhir_embed(project_dir: Path, capsys, tmp_path: Path) -> None:
    from fhir.resources.R4B.documentreference import DocumentReference

    assert (
        run_cli(
            capsys, "build", "--allow-drafts", "--clinic", CLINIC, "--topic", TOPIC, "--level", "easy", "--jobs", "1"
        )[0]
        == 0
    )
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
    text = GOOD_TOPIC.replace('what_it_is: "It is a test."', f'what_it_is: "{hard}"')
    write_topic(project_dir, text)
    argv = ["packet", TOPIC, "test-topic", "--clinic", CLINIC, "--level", "easy", "-o", "p.pdf"]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1
    assert "packet × riverside-spine × easy: refused: it does not pass 'handouts check'" in err
    assert f"content/test-topic.yaml:{line_of(text, hard)}: error HL101" in err  # at the hardest sentence
    assert not (project_dir / "p.pdf").exists()
    assert run_cli(capsys, *argv, "--ignore-check")[0] == 0
    assert (project_dir / "p.pdf").read_bytes().startswith(b"%PDF-")


# ---------------------------------------------------------------- personalised copies


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
    assert (
        run_cli(capsys, "build", "--allow-drafts", "--clinic", CLINIC, "--level", "easy", "--jobs", "1", "--thumbnail")[
            0
        ]
        == 0
    )
    output = project_dir / "output"
    for entry in json.loads((output / "manifest.json").read_text())["outputs"]:
        assert entry["thumbnail"] == entry["path"][: -len(".pdf")] + ".png"
        png = (output / entry["thumbnail"]).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(png[16:20], "big") == THUMBNAIL_WIDTH
    assert run_cli(capsys, *render_args("-o", "one.pdf", "--thumbnail"))[0] == 0
    assert (project_dir / "one.png").read_bytes().startswith(b"\x89PNG")
