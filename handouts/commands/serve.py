"""``handouts serve``: the web app (see :mod:`handouts.web.app`) under uvicorn."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..web.guard import is_local

MIN_TOKEN = 12
GRACE_SECONDS = 3


def serve(
    root: Path,
    host: str,
    port: int,
    token: str | None,
    jobs: int,
    timeout: float,
    allow_drafts: bool,
    watch: bool = True,
    clinic: str = "",
) -> None:
    """Serve the project at ``root`` until Ctrl-C. Binding beyond this machine needs a token."""
    import uvicorn

    from ..web.app import ServeOptions, create_app

    local = is_local(host)
    if not local and not token:
        raise UsageError(f"--host {host} lets other computers in: give --token (or set HANDOUTS_TOKEN) as well")
    if token is not None and len(token) < MIN_TOKEN:
        raise UsageError(
            f"--token: use at least {MIN_TOKEN} characters"
            " (a random one: python -c 'import secrets; print(secrets.token_urlsafe())')"
        )
    options = ServeOptions(root, token, local, max(1, jobs), timeout, allow_drafts, watch, clinic)
    app = create_app(options)
    shown = f"[{host}]" if ":" in host else host
    print(f"handouts: serving {root} on http://{shown}:{port}/ (Ctrl-C to stop)", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=True,
        server_header=False,
        timeout_graceful_shutdown=GRACE_SECONDS,  # an open preview's event stream never ends by itself
    )
