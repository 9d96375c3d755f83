"""What every feature's handlers share: the console of the app, the signed-in session, replies."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from aiohttp import web

from console.accounts import Session

if TYPE_CHECKING:
    from console.app import Console

CONSOLE = web.AppKey("console", object)  # the Console serving this app (console/app.py build())
SESSION_KEY = "console_session"


def console_of(request: web.Request) -> "Console":
    found: Any = request.app[CONSOLE]
    return found


def session(request: web.Request) -> Session:
    """The signed-in session (the guard in console/app.py put it there)."""
    found: Session = request[SESSION_KEY]
    return found


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def page(html: str, status: int = 200) -> web.Response:
    return web.Response(text=html, status=status, content_type="text/html")


def secure(request: web.Request) -> bool:
    return (console_of(request).settings.secure_cookies or request.secure
            or request.headers.get("X-Forwarded-Proto", "") == "https")


def cookie_name(request: web.Request, name: str) -> str:
    """The name a console cookie goes by: `__Host-<name>` whenever it is Secure (production, HTTPS), so a
    browser keeps it to this host alone (Secure, Path=/, no Domain) and no other host of the domain, the
    public chat host included, can set one the console would read. Over plain HTTP (`make run`) a browser
    refuses Secure cookies, and so `__Host-` ones: the plain name."""
    return f"__Host-{name}" if secure(request) else name


def safe_next(value: str) -> str:
    """Only paths on this site: never an open redirect. Browsers drop tabs and newlines from a URL
    and read a backslash as a slash ("/%09/evil.example" is "//evil.example"), so a value holding any
    control character, space or backslash is refused whole rather than cleaned."""
    if not value.startswith("/") or value.startswith("//") or any(c <= " " or c in "\\\x7f" for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not (parts.scheme or parts.netloc) else "/"


def answer(request: web.Request, data: dict[str, Any], render: Callable[[Session, dict[str, Any]], str],
           status: int = 200) -> web.Response:
    """One handler for a page and its API twin: `data` as JSON under /api/, else the page `render`
    makes of the same data, so the two cannot drift apart."""
    if is_api(request):
        return web.json_response(data, status=status)
    return page(render(session(request), data), status)
