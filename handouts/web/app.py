"""``handouts serve``: the web app for the front desk (find, give, personalise, packet) and for
authors (live preview). Starlette routes; every page is a server-made HTML page that works
with a keyboard and a screen reader; a little JavaScript prints and refreshes previews.

What a handout is, whether it may be given, and its bytes come from the same places as for
``build``: the plan, the gate, the input keys, and ``build``'s output when it is current.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import build
from ..defaults import DEFAULT_TIMEOUT, DEFAULT_VARIANT
from ..errors import GateError, HandoutsError, NotFound, RenderError, UsageError, nearest
from ..models import Clinic, Job
from ..thumbnails import page_images, thumbnail
from ..views import Personal
from ..workers import Task, WorkerSettings
from . import guard
from .catalogue import EDITIONS, Catalogue, Wanted, load_failures
from .pages import STATIC, error_page, page
from .service import Cache, RenderService
from .watch import Changes, events, watch, watched

logger = logging.getLogger("handouts.serve")

PREVIEW_WIDTH = 900  # pixels across a previewed page
MAX_FORM_BYTES = 16 * 1024

# HTTP status of each kind of user error (the nearest class wins), as exit codes are in errors.py.
HTTP_STATUSES: dict[type[HandoutsError], int] = {
    NotFound: 404,
    UsageError: 400,
    GateError: 409,
    RenderError: 422,
    HandoutsError: 422,
}


def http_status(error: HandoutsError) -> int:
    """The HTTP status for ``error``."""
    return nearest(HTTP_STATUSES, error, 422)


@dataclass(frozen=True)
class ServeOptions:
    """How the server runs: the project, who may use it, how many renderers, drafts or not."""

    root: Path
    token: str | None = None
    local: bool = True
    jobs: int = 2
    timeout: float = DEFAULT_TIMEOUT
    allow_drafts: bool = False
    watch: bool = True
    clinic: str = ""  # the clinic the find page shows first (a front desk's own)


class Server:
    """The app's state: the catalogue of the current files, the renderers, the cache."""

    def __init__(self, options: ServeOptions):
        self.options = options
        self.build_options = build.BuildOptions(allow_drafts=options.allow_drafts, thumbnails=False)
        self.changes = Changes()
        self.cache = Cache()
        self._catalogue: tuple[int, Catalogue | HandoutsError] | None = None
        first = self.catalogue()  # handouts.yaml must load for the server to start
        if options.clinic:
            first.known("clinic", options.clinic, list(first.plan.clinics))
        self.service: RenderService | None = None

    def start(self) -> None:
        """Start the render workers (before any other thread of ours exists: they are forked)."""
        self.service = RenderService(self._settings(self.catalogue()), self.options.jobs, self.options.timeout)
        self.service.start()

    def stop(self) -> None:
        """Stop the render workers."""
        if self.service is not None:
            self.service.close()
            self.service = None

    def catalogue(self) -> Catalogue:
        """The catalogue of the files as they are now (read again after any change)."""
        generation = self.changes.generation
        if self._catalogue is None or self._catalogue[0] != generation:
            try:
                read: Catalogue | HandoutsError = Catalogue.read(self.options.root, self.build_options)
            except HandoutsError as error:
                read = error
            self._catalogue = (generation, read)
        current = self._catalogue[1]
        if isinstance(current, HandoutsError):
            raise current
        return current

    def _settings(self, catalogue: Catalogue, thumbnails: bool = False) -> WorkerSettings:
        """Worker settings for this generation of the files: a worker makes a fresh renderer for them."""
        run = f"serve-{os.getpid()}-{self.changes.generation}"
        return WorkerSettings(catalogue.project, DEFAULT_VARIANT, thumbnails, run_id=run)

    async def render(self, catalogue: Catalogue, document, thumbnails: bool = False):
        """Render ``document`` in a worker; raises :class:`RenderError` with the diagnostics when it fails."""
        task = Task(os.urandom(12).hex(), document, self._settings(catalogue, thumbnails))
        assert self.service is not None, "the app's lifespan starts the renderers"
        outcome = await self.service.render(task)
        if outcome.result is None:
            raise RenderError(diagnostics=list(outcome.diagnostics))
        return outcome

    async def handout_pdf(self, catalogue: Catalogue, job: Job) -> bytes:
        """A handout that may be given: from ``build``'s output when current, else rendered and cached."""
        catalogue.require_givable(job)
        built = catalogue.built(job)
        if built is not None:
            return await asyncio.to_thread(built.read_bytes)
        key = catalogue.key(job)
        data = self.cache.get(key)
        if data is None:
            outcome = await self.render(catalogue, catalogue.document(job), thumbnails=True)
            data = outcome.result.data
            self.cache.put(key, data)
            if outcome.thumbnail:
                self.cache.put("thumbnail:" + key, outcome.thumbnail)
        return data

    async def preview_pages(self, catalogue: Catalogue, job: Job) -> tuple[str, int]:
        """Render the job for preview (whatever the gate says) and cache its page images; (key, pages)."""
        key = "preview:" + catalogue.key(job)
        count = self.cache.get(key + ":pages")
        if count is None:
            document = replace(catalogue.document(job), max_pages=None)
            outcome = await self.render(catalogue, document)
            images = await asyncio.to_thread(page_images, outcome.result.data, PREVIEW_WIDTH)
            for number, image in enumerate(images, 1):
                self.cache.put(f"{key}:{number}", image)
            count = str(len(images)).encode()
            self.cache.put(key + ":pages", count)
        return key, int(count)


# ---------------------------------------------------------------- helpers


def _server(request: Request) -> Server:
    return request.app.state.server


def _csrf(request: Request) -> str:
    return request.scope.get("state", {}).get("csrf", "")


def _clinic(request: Request) -> Clinic:
    """The clinic the address names (checked as on the command line)."""
    catalogue = _server(request).catalogue()
    clinic_id = request.path_params["clinic"]
    catalogue.known("clinic", clinic_id, list(catalogue.plan.clinics))
    return catalogue.plan.clinics[clinic_id]


def _job(request: Request, catalogue: Catalogue) -> Job:
    params = request.path_params
    return catalogue.job(params["clinic"], params["topic"], params["level"], params["language"], params["edition"])


def _ids(job: Job) -> str:
    """The job's ids as they appear in the app's addresses (see :data:`HANDOUT`)."""
    return f"{job.clinic}/{job.topic}/{job.level}/{job.language}/{job.edition}"


def _handout_url(job: Job, what: str = "") -> str:
    return f"/handout/{_ids(job)}" + (f"/{what}" if what else ".pdf")


def _preview_url(job: Job) -> str:
    return f"/preview/{_ids(job)}"


def _download_name(job: Job, personal: bool = False) -> str:
    name = Path(job.path).name
    return name[: -len(".pdf")] + ".personal.pdf" if personal else name


def _pdf_response(data: bytes, filename: str, download: bool, private: bool = False) -> Response:
    disposition = "attachment" if download else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        "Cache-Control": "no-store" if private else "no-cache",
    }
    if private:
        headers["Pragma"] = "no-cache"
    return Response(data, media_type="application/pdf", headers=headers)


def _common(request: Request, catalogue: Catalogue | None, wanted: Wanted | None = None) -> dict:
    """What every page's frame shows: the clinic's brand, the CSRF token, the generation."""
    clinic = None
    if catalogue is not None and catalogue.clinics:
        default = _server(request).options.clinic or catalogue.clinics[0].id
        chosen = wanted.clinic if wanted and wanted.clinic in catalogue.plan.clinics else default
        clinic = catalogue.plan.clinics[chosen]
    return {"csrf": _csrf(request), "clinic": clinic, "generation": _server(request).changes.generation}


def _wanted(request: Request) -> Wanted:
    query = request.query_params
    return Wanted(
        query=query.get("q", "").strip(),
        clinic=query.get("clinic", ""),
        level=query.get("level", ""),
        language=query.get("language", ""),
        edition=query.get("edition", "") or "regular",
    )


# ---------------------------------------------------------------- find and give


async def find(request: Request) -> Response:
    """The find page: topics matching the search and filters, each level with page 1 and its actions."""
    catalogue = _server(request).catalogue()
    wanted = catalogue.validate(catalogue.defaults(_wanted(request), _server(request).options.clinic))
    found = catalogue.find(wanted)
    return page(
        "find.html",
        catalogue=catalogue,
        wanted=wanted,
        found=found,
        editions=EDITIONS,
        allow_drafts=_server(request).options.allow_drafts,
        handout_url=_handout_url,
        preview_url=_preview_url,
        problems=load_failures(catalogue),
        language_names=_language_names(catalogue.languages),
        **_common(request, catalogue, wanted),
    )


def _language_names(languages: list[str]) -> dict[str, str]:
    """Each language by its own name ('español', 'ไทย'), as a patient would look for it."""
    from babel import Locale, UnknownLocaleError

    names = {}
    for language in languages:
        try:
            name = Locale.parse(language).get_display_name(language) or language
        except (ValueError, UnknownLocaleError):
            name = language
        names[language] = name[:1].upper() + name[1:]
    return names


async def handout_pdf(request: Request) -> Response:
    """The PDF, inline (``/download``: as an attachment)."""
    server = _server(request)
    catalogue = server.catalogue()
    job = _job(request, catalogue)
    data = await server.handout_pdf(catalogue, job)
    return _pdf_response(data, _download_name(job), download=request.url.path.endswith("/download"))


async def handout_thumbnail(request: Request) -> Response:
    """Page 1 of a handout as a PNG (from build output, the cache, or a render)."""
    server = _server(request)
    catalogue = server.catalogue()
    job = _job(request, catalogue)
    key = "thumbnail:" + catalogue.key(job)
    image = server.cache.get(key)
    if image is None:
        built = catalogue.built(job)
        beside = built.with_suffix(".png") if built else None
        if beside is not None and beside.is_file():
            image = await asyncio.to_thread(beside.read_bytes)
        else:
            data = await server.handout_pdf(catalogue, job)  # a render leaves its worker's thumbnail in the cache
            image = server.cache.get(key) or await asyncio.to_thread(thumbnail, data)
        server.cache.put(key, image)
    return Response(image, media_type="image/png", headers={"Cache-Control": "no-cache"})


async def handout_print(request: Request) -> Response:
    """A page holding the PDF that opens the browser's print dialog by itself."""
    catalogue = _server(request).catalogue()
    job = _job(request, catalogue)
    catalogue.require_givable(job)
    title = catalogue.plan.topic(job).titles[job.level]
    return page(
        "print.html",
        job=job,
        title=title,
        level=catalogue.project.levels[job.level].label,
        pdf_url=_handout_url(job),
        download_url=_handout_url(job, "download"),
        **_common(request, catalogue, Wanted(clinic=job.clinic)),
    )


# ---------------------------------------------------------------- personalise


async def personal_form(request: Request) -> Response:
    """The form for a personalised copy (name, note, date)."""
    catalogue = _server(request).catalogue()
    job = _job(request, catalogue)
    return _personal_page(request, catalogue, job)


def _personal_page(
    request: Request, catalogue: Catalogue, job: Job, error: str = "", values: dict | None = None, status: int = 200
) -> Response:
    return page(
        "personal.html",
        status=status,
        headers={"Cache-Control": "no-store"},
        job=job,
        title=catalogue.plan.topic(job).titles[job.level],
        level=catalogue.project.levels[job.level].label,
        action=_handout_url(job, "personal"),
        error=error,
        values=values or {},
        today=dt.date.today().isoformat(),
        limits=Personal,
        **_common(request, catalogue, Wanted(clinic=job.clinic)),
    )


async def personal_copy(request: Request) -> Response:
    """A personalised copy: patient data arrives in the POST body and leaves only inside the PDF."""
    server = _server(request)
    catalogue = server.catalogue()
    job = _job(request, catalogue)
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise UsageError("the form is too large: keep the note shorter")
    form = await request.form(max_files=0, max_fields=8, max_part_size=MAX_FORM_BYTES)
    if not guard.csrf_ok(request.scope, _text(form.get(guard.CSRF_FIELD))):
        raise HTTPException(403, "This form has expired or came from another site: reload the page and try again.")
    values = {key: _text(form.get(key)) or "" for key in ("name", "note", "date")}
    try:
        personal = Personal.checked(values["name"], values["note"], values["date"], ("Patient name", "Note", "Date"))
    except UsageError as error:
        return _personal_page(request, catalogue, job, str(error), values, status=400)
    catalogue.require_givable(job)
    outcome = await server.render(catalogue, catalogue.document(job, personal))
    return _pdf_response(outcome.result.data, _download_name(job, personal=True), download=False, private=True)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------- packet


async def packet_pdf(request: Request) -> Response:
    """Several topics for one clinic, level, language and edition in one PDF."""
    server = _server(request)
    catalogue = server.catalogue()
    query = request.query_params
    topics = query.getlist("topic")
    if not topics:
        raise UsageError("choose at least one topic for the packet (tick 'Add to packet')")
    if len(topics) != len(set(topics)) or len(topics) > 20:
        raise UsageError("a packet lists each topic once, 20 at most")
    clinic, level, language = query.get("clinic", ""), query.get("level", ""), query.get("language", "")
    edition = query.get("edition", "regular")
    jobs = [catalogue.job(clinic, topic, level, language, edition) for topic in topics]
    for job in jobs:
        catalogue.require_givable(job)
    key = "packet:" + ":".join(catalogue.key(job) for job in jobs)
    data = server.cache.get(key)
    if data is None:
        data = (await server.render(catalogue, catalogue.packet(jobs))).result.data
        server.cache.put(key, data)
    name = f"packet.{level}.{language}{'' if edition == 'regular' else '.' + edition}.pdf"
    return _pdf_response(data, name, download=query.get("download") == "1")


# ---------------------------------------------------------------- preview


async def preview(request: Request) -> Response:
    """An author's view of one handout: its pages and what ``check`` finds, refreshed on every save."""
    server = _server(request)
    params = request.path_params
    body = await _preview_body(request, server, params)
    if request.query_params.get("part") == "body":
        return page("preview_body.html", headers={"Cache-Control": "no-store"}, **body)
    return page("preview.html", headers={"Cache-Control": "no-store"}, **body)


async def _preview_body(request: Request, server: Server, params: dict) -> dict:
    values: dict = {"params": params, "problems": [], "findings": [], "pages": [], "refusal": None, "job": None}
    values.update(_common(request, None), title=params["topic"])
    try:
        catalogue = server.catalogue()
    except HandoutsError as error:
        values["problems"] = error.diagnostics or [str(error)]
        return values
    values.update(_common(request, catalogue, Wanted(clinic=params["clinic"])))
    try:
        job = _job(request, catalogue)
    except NotFound:
        names = {f"topic {params['topic']}", f"clinic {params['clinic']}"}
        failures = [f for f in catalogue.plan.failures if f.name in names or f.name.startswith("translation ")]
        failed = [d for failure in failures for d in failure.diagnostics]
        if not failed:
            raise
        values["problems"] = failed
        return values
    values["job"] = job
    values["title"] = catalogue.plan.topic(job).titles[job.level]
    values["findings"] = await asyncio.to_thread(catalogue.findings, job)
    values["refusal"] = catalogue.refusal(job)
    try:
        key, count = await server.preview_pages(catalogue, job)
    except HandoutsError as error:
        values["problems"] = error.diagnostics or [str(error)]
        return values
    values["pages"] = [f"{_preview_url(job)}/page-{n}.png?k={key[-16:]}" for n in range(1, count + 1)]
    return values


async def preview_page_image(request: Request) -> Response:
    """One page of a preview as a PNG."""
    server = _server(request)
    catalogue = server.catalogue()
    job = _job(request, catalogue)
    key, count = await server.preview_pages(catalogue, job)
    number = request.path_params["page"]
    image = server.cache.get(f"{key}:{number}") if 1 <= number <= count else None
    if image is None:
        raise NotFound(f"no page {number}")
    return Response(image, media_type="image/png", headers={"Cache-Control": "no-cache"})


async def change_events(request: Request) -> Response:
    """Server-sent events: the files' generation, sent again on every change."""
    server = _server(request)
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        since = 0
    stream = events(server.changes, since, request.is_disconnected)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- signing in, fonts, logos


async def login_form(request: Request) -> Response:
    """The sign-in page (when the server was started with a token)."""
    return page(
        "login.html",
        next=guard.safe_next(request.query_params.get("next")),
        error="",
        csrf=_csrf(request),
        clinic=None,
        generation=0,
    )


async def login(request: Request) -> Response:
    """Check the access code; on success set the token cookie and go where the user was going."""
    form = await request.form(max_files=0, max_fields=4, max_part_size=1024)
    token = _server(request).options.token
    if not guard.csrf_ok(request.scope, _text(form.get(guard.CSRF_FIELD))):
        raise HTTPException(403, "This form has expired or came from another site: reload the page and try again.")
    target = guard.safe_next(_text(form.get("next")))
    if token is None or not guard.same(_text(form.get("token")), token):
        values = {"next": target, "error": "That access code is not right.", "csrf": _csrf(request)}
        return page("login.html", status=401, clinic=None, generation=0, **values)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(guard.TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


async def font(request: Request) -> Response:
    """The project's shipped fonts (the handouts' own typeface for the app's pages too)."""
    name = request.path_params["name"]
    fonts = _server(request).catalogue().project.templates_dir / "fonts"
    if not name.endswith(".ttf") or "/" in name or name.startswith(".") or not (fonts / name).is_file():
        raise NotFound(f"no font {name!r}")
    data = await asyncio.to_thread((fonts / name).read_bytes)
    return Response(data, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})


async def clinic_logo(request: Request) -> Response:
    """A clinic's logo, as an image only: it comes from a clinic folder, which is untrusted."""
    logo = _clinic(request).logo
    kinds = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
    data = await asyncio.to_thread(logo.read_bytes)
    headers = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "Cache-Control": "no-cache"}
    return Response(data, media_type=kinds.get(logo.suffix.lower(), "application/octet-stream"), headers=headers)


async def clinic_brand(request: Request) -> Response:
    """The clinic's colours as CSS variables (checked as #rgb or #rrggbb when the clinic was read)."""
    clinic = _clinic(request)
    css = f":root {{ --brand: {clinic.primary_color}; --accent: {clinic.accent_color}; }}\n"
    return Response(css, media_type="text/css", headers={"Cache-Control": "no-cache"})


# ---------------------------------------------------------------- errors


async def _handout_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HandoutsError)
    status = http_status(error)
    titles = {404: "Not found", 400: "Please check the request", 409: "Not ready to give to patients"}
    title = titles.get(status, "This handout could not be made")
    return error_page(status, title, str(error), error.diagnostics, _csrf(request))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    titles = {404: "Not found", 405: "Not allowed", 403: "Refused"}
    message = error.detail if error.status_code != 404 else "There is no page at this address."
    return error_page(error.status_code, titles.get(error.status_code, "Error"), message, csrf=_csrf(request))


def _unexpected(scope: dict, error: Exception) -> Response:
    # Never the message or the traceback: either might hold what a form carried.
    logger.error("unexpected %s on %s %s", type(error).__name__, scope.get("method"), scope.get("path"))
    try:
        return error_page(500, "Something went wrong", "The server could not finish this request. Try again.")
    except Exception:  # the error page itself failed: plain words, still no traceback
        return Response("Something went wrong. Try again.", status_code=500, media_type="text/plain")


def _render_error(status: int, title: str, message: str):
    return error_page(status, title, message)


# ---------------------------------------------------------------- the app


HANDOUT = "/handout/{clinic}/{topic}/{level}/{language}/{edition}"
PREVIEW = "/preview/{clinic}/{topic}/{level}/{language}/{edition}"


def create_app(options: ServeOptions) -> Starlette:
    """The app for ``options.root``; the renderers start with it and stop with it."""
    server = Server(options)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        server.start()
        stop = asyncio.Event()
        watcher = None
        if options.watch:
            project = server.catalogue().project
            paths = watched(options.root, project.content_dir, project.templates_dir)
            watcher = asyncio.create_task(watch(paths, server.changes, stop))
        try:
            yield
        finally:
            stop.set()
            if watcher is not None:
                watcher.cancel()
            await asyncio.to_thread(server.stop)

    routes = [
        Route("/", find),
        Route(HANDOUT + ".pdf", handout_pdf),
        Route(HANDOUT + "/download", handout_pdf),
        Route(HANDOUT + "/thumbnail.png", handout_thumbnail),
        Route(HANDOUT + "/print", handout_print),
        Route(HANDOUT + "/personal", personal_form, methods=["GET"]),
        Route(HANDOUT + "/personal", personal_copy, methods=["POST"]),
        Route("/packet.pdf", packet_pdf),
        Route(PREVIEW, preview),
        Route(PREVIEW + "/page-{page:int}.png", preview_page_image),
        Route("/events", change_events),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/fonts/{name}", font),
        Route("/clinic/{clinic}/logo", clinic_logo),
        Route("/clinic/{clinic}/brand.css", clinic_brand),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {HandoutsError: _handout_error, HTTPException: _http_error}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.state.server = server
    app.add_middleware(
        guard.Guard, token=options.token, local=options.local, render_error=_render_error, unexpected=_unexpected
    )
    return app
