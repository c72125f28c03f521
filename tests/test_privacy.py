"""Patient data stays on the page: a canary name, note and date given to a personalised copy are
found in the page text and nowhere else: not in any decompressed PDF object (outline, names,
annotations, structure tree, metadata, XMP), file names, the thumbnail, logs, temp or cache files."""

from __future__ import annotations

import io
import logging
import os
import tempfile
import time
import uuid
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from .helpers import files_under, run_cli


def encodings(text: str) -> list[bytes]:
    """How a PDF may spell ``text``: PDFDocEncoding/ASCII, UTF-16BE, UTF-16LE, UTF-8."""
    return [text.encode("latin-1"), text.encode("utf-16-be"), text.encode("utf-16-le"), text.encode()]


def every_decoded_object(data: bytes) -> list[tuple[str, bytes]]:
    """Every object of the PDF, decompressed: each stream's decoded bytes, and the raw bytes of
    every string and name in every object (each object once: references are not followed)."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            where = f"object {obj.objgen}"
            if isinstance(obj, pikepdf.Stream):
                found.append((f"stream {obj.objgen}", obj.read_bytes()))
                found.extend((where, s) for s in _strings(obj.stream_dict))
            elif isinstance(obj, pikepdf.Object):
                found.extend((where, s) for s in _strings(obj))
    return found


def _strings(obj) -> list[bytes]:
    """Raw bytes of the strings and names directly inside ``obj`` (not behind references)."""
    if isinstance(obj, pikepdf.String):
        return [bytes(obj)]
    if isinstance(obj, pikepdf.Name):
        return [str(obj).encode()]
    if isinstance(obj, pikepdf.Array):
        return [s for item in obj if not getattr(item, "is_indirect", False) for s in _strings(item)]
    if isinstance(obj, pikepdf.Dictionary):
        return [str(key).encode() for key in obj] + [
            s for key in obj if not getattr(obj[key], "is_indirect", False) for s in _strings(obj[key])
        ]
    return []


def outline_and_structure_strings(data: bytes) -> list[str]:
    """Every title in the outline, and every string of every structure element (T, Alt, ActualText, E, Lang)."""
    texts = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        with pdf.open_outline() as outline:
            stack = list(outline.root)
            while stack:
                item = stack.pop()
                texts.append(str(item.title))
                stack.extend(item.children)
        todo = [pdf.Root.StructTreeRoot]
        while todo:
            element = todo.pop()
            for key in ("/T", "/Alt", "/ActualText", "/E", "/Lang"):
                if key in element:
                    texts.append(str(element[key]))
            kids = element.get("/K")
            kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
            todo.extend(kid for kid in kids if isinstance(kid, pikepdf.Dictionary) and "/S" in kid)
        for name in pdf.Root.get("/Names", {}).get("/Dests", {}).get("/Names", [])[::2]:
            texts.append(str(name))
    return texts


def test_canary_is_on_the_page_and_nowhere_else(project_dir: Path, capsys, caplog: pytest.LogCaptureFixture) -> None:
    canary = f"Canary{uuid.uuid4().hex[:12]}"
    name, note, date = f"Ada {canary}", f"Walk daily. Call {canary}-note if worse.", "2026-11-21"
    caplog.set_level(logging.DEBUG)
    started = time.time()
    personal = ["--for", name, "--note", note, "--date", date]
    argv = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy", *personal]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and "needs -o FILE" in err  # never into the shared output folder by default
    code, out, err = run_cli(capsys, *argv, "--thumbnail", "-o", "copy-for-patient.pdf")
    assert code == 0, err
    data = (project_dir / "copy-for-patient.pdf").read_bytes()
    assert files_under(project_dir / "output") == []

    first_page = PdfReader(io.BytesIO(data)).pages[0].extract_text()  # on the page: yes
    assert f"Prepared for Ada {canary}" in first_page and f"{canary}-note" in first_page
    assert "21 November 2026" in first_page

    for where, content in every_decoded_object(data):  # anywhere else in the PDF: no
        assert not any(spelling in content for spelling in encodings(canary)), where
    assert not any(canary in text for text in outline_and_structure_strings(data))
    with pikepdf.open(io.BytesIO(data)) as pdf, pdf.open_metadata() as xmp:
        assert canary not in str(xmp)
        assert all(canary not in str(value) for value in pdf.docinfo.values())

    png = (project_dir / "copy-for-patient.png").read_bytes()  # the thumbnail: its name and its chunks
    assert png.startswith(b"\x89PNG") and not any(s in png for s in encodings(canary))
    assert canary not in out + err
    assert all(canary not in record.getMessage() for record in caplog.records)
    for path in files_under(project_dir):  # file names and contents: output, any manifest or cache
        assert canary not in str(path)
        assert not any(s in path.read_bytes() for s in encodings(canary)), path
    for folder, _, names in os.walk(tempfile.gettempdir()):  # os.walk skips folders that vanish meanwhile
        for file_name in names:
            path = Path(folder) / file_name
            try:
                recent = path.stat().st_mtime >= started and path.stat().st_size < 5_000_000
                content = path.read_bytes() if recent else b""
            except OSError:
                continue
            assert canary not in str(path) and not any(s in content for s in encodings(canary)), path


def test_the_outline_search_finds_a_leak(project_dir: Path, capsys) -> None:
    """The check can fail: with the CSS that keeps the name out of the bookmarks removed, it does."""
    css = project_dir / "templates" / "handout.css"
    css.write_text(css.read_text().replace(".personal h2, .personal h3 { bookmark-level: none; }", ""))
    argv = ["render", "endplate-sclerosis", "--clinic", "riverside-spine", "--level", "easy", "-o", "leak.pdf"]
    assert run_cli(capsys, *argv, "--for", "Ada Leak")[0] == 0
    assert "Prepared for Ada Leak" in outline_and_structure_strings((project_dir / "leak.pdf").read_bytes())
