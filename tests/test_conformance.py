"""Every kind of output, judged by outside checkers: page-validation (PDF/UA-1, PDF/A-3a),
outloud and qpdf, plus our own structure walk (tests/pdfcheck.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from .conformance import assert_conforms, page_validation_failures, qpdf_check
from .helpers import run_cli
from .pdfcheck import assert_accessible, read_facts
from .samples import OUTPUTS

TOPIC, CLINIC = "endplate-sclerosis", "riverside-spine"


@pytest.mark.parametrize("output", OUTPUTS)
def test_every_sample_conforms(built_samples: Path, output: str) -> None:
    """Every sample in every language and edition (Thai, Spanish, large print included)."""
    data = (built_samples / output).read_bytes()
    assert_conforms(data)
    headings = assert_accessible(data, output.split(".")[2])
    assert headings.count("H1") == 1


@pytest.mark.parametrize("clinic_id", ["riverside-spine", "bangkok-regenerative"])
def test_archival_variant_is_pdf_a_3a_and_pdf_ua_1(project_dir: Path, capsys, clinic_id: str) -> None:
    argv = ["render", TOPIC, "--clinic", clinic_id, "--level", "standard", "--pdf-variant", "pdf/a-3a", "-o", "a.pdf"]
    assert run_cli(capsys, *argv)[0] == 0
    data = (project_dir / "a.pdf").read_bytes()
    assert_conforms(data, archival=True)
    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfaid:part"] == "3" and xmp["pdfaid:conformance"] == "A"
        assert xmp["pdfuaid:part"] == "1"
        assert "/OutputIntents" in pdf.Root


def test_a_claim_without_its_schema_is_caught(project_dir: Path, capsys, monkeypatch) -> None:
    """The checker really reads our XMP: without the pdfaExtension block, PDF/A-3a fails."""
    from handouts import finishing

    monkeypatch.setattr(finishing, "PDFUA_EXTENSION", finishing.PDFUA_EXTENSION.split(b"</rdf:Description>\n")[-1])
    argv = ["render", TOPIC, "--clinic", CLINIC, "--level", "easy", "--pdf-variant", "pdf/a-3a", "-o", "a.pdf"]
    assert run_cli(capsys, *argv)[0] == 0
    failures = page_validation_failures((project_dir / "a.pdf").read_bytes(), "3a")
    assert any("XMP" in failure for failure in failures), failures


def test_default_variant_is_pdf_ua_1_and_plain_is_untagged(project_dir: Path, capsys) -> None:
    argv = ["render", TOPIC, "--clinic", CLINIC, "--level", "easy"]
    assert run_cli(capsys, *argv, "-o", "ua.pdf")[0] == 0
    with pikepdf.open(project_dir / "ua.pdf") as pdf, pdf.open_metadata() as xmp:
        assert xmp["pdfuaid:part"] == "1"
    assert run_cli(capsys, *argv, "--pdf-variant", "plain", "-o", "plain.pdf")[0] == 0
    plain = (project_dir / "plain.pdf").read_bytes()
    assert not read_facts(plain).tagged
    assert page_validation_failures(plain, "ua1")  # a plain file is not PDF/UA, and the checker says so
    qpdf_check(plain)


def test_packet_conforms(project_dir: Path, capsys) -> None:
    argv = ["packet", TOPIC, "subchondral-sclerosis", "--clinic", CLINIC, "--level", "standard", "-o", "p.pdf"]
    assert run_cli(capsys, *argv)[0] == 0
    data = (project_dir / "p.pdf").read_bytes()
    assert_conforms(data)
    assert_accessible(data)


def test_personalised_copy_conforms(project_dir: Path, capsys) -> None:
    argv = ["render", TOPIC, "--clinic", "bangkok-regenerative", "--level", "easy", "-o", "copy.pdf"]
    assert run_cli(capsys, *argv, "--for", "Ada Lovelace", "--note", "Walk daily.", "--date", "2026-11-21")[0] == 0
    assert_conforms((project_dir / "copy.pdf").read_bytes())


def test_page_furniture_is_pagination_artifacts(built_samples: Path) -> None:
    """Header and footer text sit in /Artifact marked content with /Type /Pagination, and every
    ParentTree entry points into the structure tree."""
    data = (built_samples / CLINIC / f"{TOPIC}.easy.en.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        subtypes = set()
        for page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                if operator == pikepdf.Operator("BDC") and operands[0] == pikepdf.Name.Artifact:
                    properties = operands[1]
                    if properties.get("/Type") == pikepdf.Name.Pagination:
                        subtypes.add(str(properties.get("/Subtype")))
        assert subtypes == {"/Header", "/Footer"}
        reachable = _reachable(pdf.Root.StructTreeRoot)
        numbers = pdf.Root.StructTreeRoot.ParentTree.Nums
        for index in range(1, len(numbers), 2):
            parents = numbers[index] if isinstance(numbers[index], pikepdf.Array) else [numbers[index]]
            for parent in parents:
                assert parent is None or parent.objgen in reachable


def _reachable(root) -> set[tuple[int, int]]:
    seen, todo = set(), list(root.K)
    while todo:
        kid = todo.pop()
        if not isinstance(kid, pikepdf.Dictionary) or kid.objgen in seen:
            continue
        seen.add(kid.objgen)
        kids = kid.get("/K")
        if isinstance(kids, pikepdf.Array):
            todo.extend(kids)
        elif kids is not None:
            todo.append(kids)
    return seen


def test_figure_box_is_in_the_page_user_space(built_samples: Path) -> None:
    reader = PdfReader(built_samples / CLINIC / f"{TOPIC}.easy.en.pdf")
    root = reader.trailer["/Root"]["/StructTreeRoot"]
    from .pdfcheck import structure_elements

    figures = [e for e in structure_elements(root) if str(e["/S"]) == "/Figure"]
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert len(figures) >= 2  # the logo and the topic's picture
    for figure in figures:
        x1, y1, x2, y2 = (float(v) for v in figure["/A"]["/BBox"])
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    logo = [float(v) for v in figures[0]["/A"]["/BBox"]]
    assert logo[1] > height * 0.8  # the logo is at the top of page 1, and PDF's y goes up


def test_links_print(built_samples: Path) -> None:
    reader = PdfReader(built_samples / CLINIC / f"{TOPIC}.standard.en.pdf")  # its sources are links
    annotations = [a.get_object() for page in reader.pages for a in page.get("/Annots", [])]
    assert annotations and all(int(a["/F"]) & 4 for a in annotations)
