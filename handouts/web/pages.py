"""The server's own pages: Jinja2 templates in ``web/pages/``, autoescaped, and the error page.

These are the tool's pages (find, print, personalise, preview), not a clinic's handout
templates: they come with handouts and are trusted; every value shown is escaped.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.responses import HTMLResponse

from ..errors import Diagnostic

PAGES = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PAGES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(name: str, status: int = 200, headers: dict[str, str] | None = None, **values: object) -> HTMLResponse:
    """The page ``name`` (a template in ``web/pages/``) filled with ``values``."""
    html = _environment.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(
    status: int, title: str, message: str, diagnostics: list[Diagnostic] | None = None, csrf: str = ""
) -> HTMLResponse:
    """A friendly error page with the same message the command line prints (never a traceback)."""
    return page(
        "error.html",
        status=status,
        headers={"Cache-Control": "no-store"},
        title=title,
        message=message,
        diagnostics=diagnostics or [],
        csrf=csrf,
        clinic=None,
        generation=0,
    )
