"""Who may use the server, and what every response carries.

- **Token**: when ``serve`` binds beyond this machine it needs ``--token``; a browser then
  signs in once (``/login``) and carries the token in an HttpOnly cookie; scripts may send
  ``Authorization: Bearer TOKEN``. Compared in constant time.
- **Host header**: on 127.0.0.1 only local host names are answered, so a web page
  elsewhere cannot reach the server by DNS rebinding.
- **CSRF**: every form carries a random token that must equal the one in a SameSite
  cookie; a POST from another site (``Sec-Fetch-Site``/``Origin``) is refused too.
- **Headers**: a strict Content-Security-Policy, no referrer, no sniffing, no framing by
  other sites.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

TOKEN_COOKIE = "handouts-token"
CSRF_COOKIE = "handouts-csrf"
CSRF_FIELD = "csrf"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
OPEN_PATHS = ("/login", "/static/")  # reachable before signing in

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
]


def is_local(host: str) -> bool:
    """``host`` (as given to ``--host``) is this machine only."""
    return host in LOCAL_HOSTS or host.startswith("127.")


def same(given: str | None, expected: str) -> bool:
    """``given`` equals ``expected``, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def new_secret() -> str:
    """A random token for a CSRF cookie."""
    return secrets.token_urlsafe(32)


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookies(scope: dict) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar = SimpleCookie()
    try:
        jar.load(_header(scope, b"cookie") or "")
    except Exception:  # a malformed cookie header is no cookie
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def cross_site(scope: dict) -> bool:
    """The request says it comes from another site (browsers send these headers on POST)."""
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = _header(scope, b"origin")
    if origin is None or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != (_header(scope, b"host") or "")


def csrf_ok(scope: dict, submitted: str | None) -> bool:
    """A form POST is genuine: its token equals the cookie's and it does not come from another site."""
    cookie = _cookies(scope).get(CSRF_COOKIE)
    return cookie is not None and same(submitted, cookie) and not cross_site(scope)


class Guard:
    """ASGI middleware: host check, token check, CSRF cookie, security headers."""

    def __init__(self, app, token: str | None, local: bool, render_error, unexpected):
        self.app = app
        self.token = token
        self.local = local
        self.render_error = render_error  # (status, title, message) -> ASGI app
        self.unexpected = unexpected  # (scope, error) -> ASGI app: a friendly page, the error logged by type only

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.local and not is_local(_host(scope)):
            refusal = self.render_error(421, "Wrong address", "This server answers on localhost only.")
            await refusal(scope, receive, send)
            return
        cookies = _cookies(scope)
        if self.token and not self._signed_in(scope, cookies) and not scope["path"].startswith(OPEN_PATHS):
            await _redirect("/login?next=" + _quoted(scope))(scope, receive, send)
            return
        scope.setdefault("state", {})["csrf"] = cookies.get(CSRF_COOKIE) or new_secret()
        fresh = CSRF_COOKIE not in cookies

        started = False

        async def send_with_headers(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += [pair for pair in SECURITY_HEADERS if pair[0] not in {k for k, _ in headers}]
                if fresh:
                    csrf = scope["state"]["csrf"]
                    headers.append((b"set-cookie", f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:  # no traceback in the browser, nor in the log (it could quote a form)
            if started:
                return
            await self.unexpected(scope, error)(scope, receive, send_with_headers)

    def _signed_in(self, scope: dict, cookies: dict[str, str]) -> bool:
        assert self.token is not None
        bearer = _header(scope, b"authorization") or ""
        if bearer.startswith("Bearer ") and same(bearer[len("Bearer ") :], self.token):
            return True
        return same(cookies.get(TOKEN_COOKIE), self.token)


def _host(scope: dict) -> str:
    host = _header(scope, b"host") or ""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _quoted(scope: dict) -> str:
    from urllib.parse import quote

    path = scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return quote(path + ("?" + query if query else ""), safe="")


def _redirect(location: str):
    from starlette.responses import RedirectResponse

    return RedirectResponse(location, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this server only (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
