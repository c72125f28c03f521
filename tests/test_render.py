"""Rendering: safe templates, reproducible bytes, golden HTML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handouts import loading
from handouts.commands.render import load_checked
from handouts.errors import RenderError
from handouts.render import Renderer
from handouts.templates import Templates
from handouts.views import handout_view

from .conftest import REPO
from .helpers import MINIMAL_TOPIC, run_cli, write_topic
from .pdfcheck import extract_text

GOLDEN = Path(__file__).parent / "golden" / "endplate-sclerosis.riverside-spine.easy.html"
REGENERATE = "HANDOUTS_REGENERATE_GOLDEN"


def view(project_dir: Path, topic: str = "endplate-sclerosis", clinic: str = "riverside-spine", level: str = "easy"):
    project = loading.load_project(project_dir)
    topics, the_clinic = load_checked(project, [topic], clinic, level, ignore_check=True, what=topic)
    return project, handout_view(project, topics[topic], the_clinic, level)


def render_pdf(
    project_dir: Path, topic: str = "endplate-sclerosis", clinic: str = "riverside-spine", level: str = "standard"
) -> bytes:
    project, handout = view(project_dir, topic, clinic, level)
    return Renderer(project).pdf(handout)


def test_text_is_escaped_not_executed(project_dir: Path) -> None:
    write_topic(project_dir, MINIMAL_TOPIC.replace("title: Test topic", 'title: "<script>x</script> {{ 7*7 }}"'))
    project, handout = view(project_dir, "test-topic")
    html = Templates(project).html(handout)
    assert "&lt;script&gt;x&lt;/script&gt; {{ 7*7 }}" in html
    assert "<script>" not in html and "49" not in html


def test_undefined_template_variable_fails(project_dir: Path) -> None:
    override = project_dir / "templates" / "clinics" / "riverside-spine" / "partials" / "title.html"
    override.parent.mkdir(parents=True)
    override.write_text("<h1>{{ handout.subtitle }}</h1>\n")
    project, handout = view(project_dir)
    with pytest.raises(RenderError, match="subtitle") as caught:
        Templates(project).html(handout)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.path, diagnostic.line) == (
        "HL401",
        "templates/clinics/riverside-spine/partials/title.html",
        1,
    )


def test_template_syntax_error_names_file_and_line(project_dir: Path, capsys: pytest.CaptureFixture) -> None:
    override = project_dir / "templates" / "clinics" / "riverside-spine" / "partials" / "title.html"
    override.parent.mkdir(parents=True)
    override.write_text("<h1>\n{% if %}\n</h1>\n")
    code, _, err = run_cli(capsys, "render", "endplate-sclerosis", "--clinic", "riverside-spine", "-o", "x.pdf")
    assert code == 1
    assert "templates/clinics/riverside-spine/partials/title.html:2: error HL011: template syntax error" in err
    assert not (project_dir / "x.pdf").exists()


def test_clinic_override_wins_over_base(project_dir: Path) -> None:
    override = project_dir / "templates" / "clinics" / "riverside-spine" / "partials" / "title.html"
    override.parent.mkdir(parents=True)
    override.write_text("<h1>{{ handout.title }}</h1><p>Clinic-specific subtitle</p>\n")
    text = extract_text(render_pdf(project_dir))
    assert "Clinic-specific subtitle" in text
    other = extract_text(render_pdf(project_dir, clinic="bangkok-regenerative"))
    assert "Clinic-specific subtitle" not in other


def test_clinic_css_is_applied(project_dir: Path) -> None:
    css = project_dir / "templates" / "clinics" / "riverside-spine" / "clinic.css"
    css.write_text(".masthead-kind::after { content: ' (clinic CSS applied)'; }\n")
    assert "(clinic CSS applied)" in extract_text(render_pdf(project_dir))


def golden_html() -> str:
    project, handout = view(REPO)
    return Templates(project).html(handout).replace(project.root.as_uri(), "file:///PROJECT")


def test_golden_html(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regenerate after an intended change: HANDOUTS_REGENERATE_GOLDEN=1 pytest tests/test_render.py"""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    actual = golden_html()
    if os.environ.get(REGENERATE):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == GOLDEN.read_text(encoding="utf-8"), f"HTML changed; if intended, regenerate with {REGENERATE}=1"
