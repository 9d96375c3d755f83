"""The console's web server (aiohttp): pages, the JSON API under /api/, sign-in and CSRF.

Authentication: a session cookie (browser) or `Authorization: Bearer <token>` from POST
/api/login (scripts). Every state-changing request made with the cookie must carry the
session's CSRF token (form field `csrf` or header X-CSRF-Token). Anonymous requests get a
redirect to /login (pages) or 401 (API); staff get 403 on admin pages.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from console import pages, schema, summaries
from console.accounts import Accounts, Session, same
from console.db import ConsoleDB
from console.jobs import Jobs
from console.rasa_client import RasaClient
from console.settings import ConsoleSettings
from console.views import (attention, campaigns, consent, conversation, customer, improve, inbox, knowledge,
                           overview, staff)
from console.views.common import CONSOLE, SESSION_KEY, cookie_name, is_api, json_error

log = logging.getLogger("console")
STATIC = Path(__file__).resolve().parent / "static"
CHART_JS = Path(__file__).resolve().parent / "node_modules" / "chart.js" / "dist" / "chart.umd.js"  # npm, no CDN
COOKIE = staff.COOKIE
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = frozenset({"/login", "/api/login"})
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
FEATURES = (staff, inbox, conversation, attention, knowledge, improve, overview, campaigns, consent,
            customer)  # each with its own routes


class AccessLog(AbstractAccessLogger):
    """Method, route and status only: query strings carry searched phones and emails, and an SMS
    conversation's id (in the path) is the customer's phone number."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        try:
            route = request.match_info.route.resource.canonical  # /conversations/{id}
        except AttributeError:  # no route matched (404)
            route = "(unknown path)"
        self.logger.info("%s %s %s %.0fms", request.method, route, response.status, time * 1000)


class Console:
    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self.db = ConsoleDB(settings.database_url)
        self.accounts = Accounts(self.db, settings.session_idle_s, settings.lockout_after, settings.lockout_s)
        self.rasa = RasaClient(settings.rasa_url, settings.rasa_token, settings.staff_secret)
        self._events_indexed = False
        self.jobs: Optional[Jobs] = None  # made at start-up (it needs the schema)

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Database work off the event loop."""
        return await asyncio.to_thread(fn, *args)

    # ---- background: keep the summaries current
    async def follow(self, app: web.Application) -> None:
        while True:
            try:
                if not self._events_indexed:
                    self._events_indexed = await self.call(schema.index_events, self.db)
                await self.call(summaries.catch_up, self.db)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarting: try again next tick
                log.warning("summaries not updated: %s", type(exc).__name__)
            await asyncio.sleep(self.settings.poll_s)

    async def refresh(self) -> None:
        await self.call(summaries.catch_up, self.db)

    # ---- authentication
    async def session_of(self, request: web.Request) -> tuple[Optional[Session], bool]:
        """(session, whether a token or cookie was presented at all)."""
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return await self.call(self.accounts.session, auth[7:].strip(), "bearer"), True
        cookie = request.cookies.get(cookie_name(request, COOKIE))  # `__Host-` only, in production
        if cookie:
            return await self.call(self.accounts.session, cookie, "cookie"), True
        return None, False

    @web.middleware
    async def guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        try:
            response = await self._guarded(request, handler)
        except web.HTTPException as exc:
            if exc.status >= 400 and is_api(request):
                response = json_error(exc.status, exc.reason)
            elif exc.status >= 400:
                response = web.Response(status=exc.status, content_type="text/html",
                                        text=pages.error_page(exc.status, exc.reason, request.get(SESSION_KEY)))
            else:
                for key, value in HEADERS.items():
                    exc.headers.setdefault(key, value)
                raise
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _guarded(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if request.path.startswith(("/static/", "/vendor/")) or request.path in PUBLIC:
            return await handler(request)
        session, presented = await self.session_of(request)
        if session is None:
            if is_api(request):
                return json_error(401, "session expired; sign in again" if presented else "sign in first")
            target = request.path_qs if request.method in SAFE_METHODS else "/"
            raise web.HTTPSeeOther(f"/login?next={quote(target)}" + ("&expired=1" if presented else ""))
        if request.method not in SAFE_METHODS and session.kind == "cookie":
            origin = request.headers.get("Origin")
            if origin and origin != "null" and urlsplit(origin).netloc != request.host:
                return self._refuse(request, 403, "cross-site request refused")
            token = request.headers.get("X-CSRF-Token")
            if token is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                token = (await request.post()).get("csrf")
            if not same(token if isinstance(token, str) else None, session.csrf):
                return self._refuse(request, 403, "the form expired (CSRF check failed): reload the page and try again")
        if request.path.startswith(("/admin/", "/api/admin/")) and not session.user.is_admin:
            return self._refuse(request, 403, "only admins can open this page", session)
        request[SESSION_KEY] = session
        return await handler(request)

    def _refuse(self, request: web.Request, status: int, message: str, session: Optional[Session] = None):
        if is_api(request):
            return json_error(status, message)
        return web.Response(status=status, text=pages.error_page(status, message, session), content_type="text/html")


def routes() -> list[web.AbstractRouteDef]:
    """Every feature's routes, the static files and chart.js (handlers find the console through the app)."""
    found: list[web.AbstractRouteDef] = [route for feature in FEATURES for route in feature.routes]
    return found + [web.get("/vendor/chart.umd.js", chart_js), web.static("/static", STATIC)]


async def chart_js(request: web.Request) -> web.StreamResponse:
    if not CHART_JS.exists():
        raise web.HTTPNotFound(reason="chart.js is not installed: make console-deps")
    return web.FileResponse(CHART_JS, headers={"Cache-Control": "max-age=86400"})


def build(settings: ConsoleSettings) -> tuple[web.Application, Console]:
    console = Console(settings)
    schema.create(console.db)
    app = web.Application(middlewares=[console.guard], client_max_size=64 * 1024)
    app[CONSOLE] = console
    app.add_routes(routes())

    async def start(app_: web.Application) -> None:
        console.jobs = Jobs(console.db)
        app_["follow"] = asyncio.create_task(console.follow(app_))

    async def stop(app_: web.Application) -> None:
        app_["follow"].cancel()
        if console.jobs:
            await console.jobs.close()
        await console.rasa.close()
        console.db.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app, console
