"""The console's web server (aiohttp): pages, the JSON API under /api/, sign-in and CSRF.

Authentication: a session cookie (browser) or `Authorization: Bearer <token>` from POST
/api/login (scripts). Every state-changing request made with the cookie must carry the
session's CSRF token (form field `csrf` or header X-CSRF-Token). Anonymous requests get a
redirect to /login (pages) or 401 (API); staff get 403 on admin pages.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from console import attention, export, gaps, inbox, knowledge_pages, overview, pages, schema, summaries, takeover
from console.accounts import AccountError, Accounts, Session, same
from console.db import ConsoleDB
from console.jobs import AlreadyRunning, Jobs
from console.rasa_client import RasaClient, RasaUnavailable, Refused
from console.settings import ConsoleSettings

log = logging.getLogger("console")
STATIC = Path(__file__).resolve().parent / "static"
CHART_JS = Path(__file__).resolve().parent / "node_modules" / "chart.js" / "dist" / "chart.umd.js"  # npm, no CDN
COOKIE = "milea_console"
PRE_COOKIE = "milea_console_pre"  # login-form CSRF before there is a session
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = frozenset({"/login", "/api/login"})
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
SESSION_KEY = "console_session"


class AccessLog(AbstractAccessLogger):
    """Method, route and status only: query strings carry searched phones and emails, and an SMS
    conversation's id (in the path) is the customer's phone number."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        try:
            route = request.match_info.route.resource.canonical  # /conversations/{id}
        except AttributeError:  # no route matched (404)
            route = "(unknown path)"
        self.logger.info("%s %s %s %.0fms", request.method, route, response.status, time * 1000)


def _api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _secure(request: web.Request, settings: ConsoleSettings) -> bool:
    return settings.secure_cookies or request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


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
        cookie = request.cookies.get(COOKIE)
        if cookie:
            return await self.call(self.accounts.session, cookie, "cookie"), True
        return None, False

    @web.middleware
    async def guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        try:
            response = await self._guarded(request, handler)
        except web.HTTPException as exc:
            if exc.status >= 400 and _api(request):
                response = _json_error(exc.status, exc.reason)
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
            if _api(request):
                return _json_error(401, "session expired; sign in again" if presented else "sign in first")
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
        if _api(request):
            return _json_error(status, message)
        return web.Response(status=status, text=pages.error_page(status, message, session), content_type="text/html")


def _page(html: str, status: int = 200) -> web.Response:
    return web.Response(text=html, status=status, content_type="text/html")


def _safe_next(value: str) -> str:
    """Only paths on this site: never an open redirect. Browsers drop tabs and newlines from a URL
    and read a backslash as a slash ("/%09/evil.example" is "//evil.example"), so a value holding any
    control character, space or backslash is refused whole rather than cleaned."""
    if not value.startswith("/") or value.startswith("//") or any(c <= " " or c in "\\\x7f" for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not (parts.scheme or parts.netloc) else "/"


def routes(console: Console) -> web.RouteTableDef:
    r = web.RouteTableDef()
    db, accounts, settings = console.db, console.accounts, console.settings

    def session(request: web.Request) -> Session:
        return request[SESSION_KEY]

    # ---- sign-in
    @r.get("/login")
    async def login_form(request: web.Request) -> web.Response:
        # kept while it lives: a second tab (or the browser's favicon request redirected here) must not
        # invalidate the form already shown
        current = request.cookies.get(PRE_COOKIE, "")
        pre = current if 16 <= len(current) <= 64 else secrets.token_urlsafe(16)
        message = "Your session expired: sign in again." if request.query.get("expired") else ""
        response = _page(pages.login_page(pre, _safe_next(request.query.get("next", "/")), message))
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="Strict", secure=_secure(request, settings),
                            max_age=3600)
        return response

    async def _sign_in(email: str, password: str) -> tuple[Optional[Any], str]:
        result = await console.call(accounts.sign_in, email, password)
        if result.user:
            log.info("sign-in: ok (%s)", result.user.role)
            return result.user, ""
        if result.locked_for:
            log.warning("sign-in: refused, locked")
            minutes = max(1, round(result.locked_for / 60))
            return None, f"Too many failed sign-ins: this account is locked for about {minutes} min."
        log.info("sign-in: wrong email or password")
        return None, "Wrong email or password."

    @r.post("/login")
    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        pre, next_path = str(form.get("pre") or ""), _safe_next(str(form.get("next") or "/"))
        email = str(form.get("email") or "")[:256]
        if not same(pre, request.cookies.get(PRE_COOKIE)):
            return _page(pages.login_page(secrets.token_urlsafe(16), next_path,
                                          "The sign-in form expired: please try again.", email), 403)
        user, message = await _sign_in(email, str(form.get("password") or ""))
        if not user:
            response = _page(pages.login_page(pre, next_path, message, email), 401)
            return response
        token, _ = await console.call(accounts.open_session, user, "cookie")
        response = web.HTTPSeeOther(next_path)
        response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=_secure(request, settings), path="/")
        response.del_cookie(PRE_COOKIE)
        raise response

    @r.post("/logout")
    async def logout(request: web.Request) -> web.Response:
        await console.call(accounts.close_session, session(request))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    @r.post("/api/login")
    async def api_login(request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _json_error(415, "send JSON: {\"email\": ..., \"password\": ...}")
        try:
            body = await request.json()
        except ValueError:
            return _json_error(400, "the body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("email"), str) or not isinstance(
                body.get("password"), str):
            return _json_error(400, "'email' and 'password' are required")
        user, message = await _sign_in(body["email"], body["password"])
        if not user:
            return _json_error(423 if "locked" in message else 401, message)
        token, _ = await console.call(accounts.open_session, user, "bearer")
        return web.json_response({"token": token, "user": {"email": user.email, "name": user.name,
                                                           "role": user.role}})

    @r.post("/api/logout")
    async def api_logout(request: web.Request) -> web.Response:
        await console.call(accounts.close_session, session(request))
        return web.json_response({"signed_out": True})

    # ---- inbox
    async def _list(request: web.Request) -> tuple[list[dict], inbox.Filters]:
        f = inbox.Filters.parse(request.query)
        return await console.call(inbox.conversations, db, f), f

    @r.get("/")
    async def inbox_page(request: web.Request) -> web.Response:
        try:
            items, f = await _list(request)
            error = ""
        except inbox.BadFilter as bad:
            items, f, error = [], inbox.Filters(), str(bad)
        queue = await console.call(inbox.handoff_queue, db)
        return _page(pages.inbox_page(session(request), items, queue, f, error), 400 if error else 200)

    @r.get("/inbox/rows")
    async def inbox_rows(request: web.Request) -> web.Response:
        try:
            items, _ = await _list(request)
        except inbox.BadFilter as bad:
            return web.Response(status=400, text=pages.e(bad))
        queue = await console.call(inbox.handoff_queue, db)
        return web.json_response({"rows": pages.inbox_rows(items), "queue": pages.queue_list(queue)})

    @r.get("/api/conversations")
    async def api_conversations(request: web.Request) -> web.Response:
        try:
            items, _ = await _list(request)
        except inbox.BadFilter as bad:
            return _json_error(400, str(bad))
        return web.json_response({"conversations": items})

    @r.get("/api/handoffs")
    async def api_handoffs(request: web.Request) -> web.Response:
        return web.json_response({"waiting": await console.call(inbox.handoff_queue, db)})

    async def _conversation(request: web.Request) -> dict:
        sender_id = request.match_info["id"]
        conv = await console.call(inbox.summary, db, sender_id)
        if conv is None:
            await console.refresh()  # a conversation a second old may not be folded yet
            conv = await console.call(inbox.summary, db, sender_id)
        if conv is None:
            raise web.HTTPNotFound(reason="no conversation with that id")
        return conv

    @r.get("/conversations/{id}")
    async def conversation_page(request: web.Request) -> web.Response:
        try:
            conv = await _conversation(request)
        except web.HTTPNotFound:
            return _page(pages.error_page(404, "No conversation with that id.", session(request)), 404)
        return _page(pages.conversation_page(session(request), conv))

    @r.get("/api/conversations/{id}")
    async def api_conversation(request: web.Request) -> web.Response:
        conv = await _conversation(request)
        try:
            after = max(0, int(request.query.get("after") or 0))
        except ValueError:
            return _json_error(400, "'after' must be an event id")
        turns, last = await console.call(inbox.transcript, db, conv["id"], after)
        me = session(request).user
        return web.json_response({"conversation": {**conv, "held_by_me": conv["taken_by_id"] == me.id},
                                  "turns": turns, "last_event_id": last})

    @r.get("/api/conversations/{id}/export")
    async def api_export(request: web.Request) -> web.Response:
        """?format=story|nlu&fix=<event id>:<intent>...: YAML ready for tests/ or data/nlu/."""
        conv = await _conversation(request)
        kind = request.query.get("format", "story")
        if kind not in ("story", "nlu"):
            return _json_error(400, "'format' must be story or nlu")
        try:
            fixes = export.parse_fixes(request.query.getall("fix", []))
        except ValueError as bad:
            return _json_error(400, str(bad))
        render = export.story_yaml if kind == "story" else export.nlu_yaml
        text = await console.call(render, db, conv["id"], fixes)
        digest = hashlib.sha1(conv["id"].encode()).hexdigest()[:8]  # never the id itself: it may be a phone
        name = f"{'test_console' if kind == 'story' else 'nlu_console'}_{digest}.yml"
        return web.Response(text=text, content_type="text/yaml",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    # ---- take over, reply, give back (pages post the same API with the CSRF header)
    async def _act(request: web.Request, action: str) -> web.Response:
        conv = await _conversation(request)
        user = session(request).user
        try:
            if action == "takeover":
                await takeover.take(db, console.rasa, conv["id"], user)
            elif action == "release":
                await takeover.give_back(db, console.rasa, conv["id"], user)
            else:
                try:
                    body = await request.json()
                except ValueError:
                    return _json_error(400, "the body must be JSON: {\"text\": ...}")
                text = body.get("text") if isinstance(body, dict) else None
                await takeover.reply(db, console.rasa, conv["id"], user, text, conv["channel"])
        except ValueError as bad:
            return _json_error(413 if "characters" in str(bad) else 400, str(bad))
        except takeover.Conflict as conflict:
            return _json_error(409, str(conflict))
        except takeover.NotFound as missing:
            return _json_error(404, str(missing))
        except Refused as refused:
            return _json_error(refused.status if refused.status in (400, 404, 409, 413) else 502, refused.reason)
        except RasaUnavailable as down:
            return _json_error(502, str(down))
        log.info("conversation %s by %s", action, user.role)
        await console.refresh()
        return web.json_response({"ok": True, "conversation": await console.call(inbox.summary, db, conv["id"])})

    @r.post("/api/conversations/{id}/takeover")
    async def api_takeover(request: web.Request) -> web.Response:
        return await _act(request, "takeover")

    @r.post("/api/conversations/{id}/release")
    async def api_release(request: web.Request) -> web.Response:
        return await _act(request, "release")

    @r.post("/api/conversations/{id}/messages")
    async def api_message(request: web.Request) -> web.Response:
        return await _act(request, "message")

    # ---- needs attention: the Commerce7 outbox and SMS that could not be sent
    async def _on(open_db: Callable[[], Optional[ConsoleDB]], fn: Callable[..., Any], *args: Any) -> Any:
        """fn(db, *args) in the worker thread, on a handle opened and closed for this call."""
        def work() -> Any:
            db_ = open_db()
            try:
                return fn(db_, *args)
            finally:
                if db_:
                    db_.close()
        return await console.call(work)

    async def _outbox_jobs() -> list[dict]:
        return await _on(attention.outbox_db, attention.jobs)

    async def _failed_sms() -> list[dict]:
        return await _on(attention.sms_db, attention.failed_sms)

    async def _outbox_act(verb: str, job_id: str) -> bool:
        done = await _on(attention.outbox_db, attention.retry if verb == "retry" else attention.cancel, job_id)
        if done:
            log.info("outbox job %s by staff", verb)
        return done

    async def _dismiss_sms(failure_id: str) -> bool:
        done = await _on(attention.sms_db, attention.dismiss_sms, failure_id)
        if done:
            log.info("failed SMS dismissed by staff")
        return done

    @r.get("/attention")
    async def attention_page(request: web.Request) -> web.Response:
        return _page(pages.attention_page(session(request), await _outbox_jobs(), request.query.get("done", "")[:100],
                                          await _failed_sms()))

    @r.get("/api/attention")
    async def api_attention(request: web.Request) -> web.Response:
        return web.json_response({"outbox": await _outbox_jobs(), "sms_failed": await _failed_sms()})

    @r.post("/api/attention/{job}/{verb:retry|cancel}")
    async def api_attention_act(request: web.Request) -> web.Response:
        if not await _outbox_act(request.match_info["verb"], request.match_info["job"]):
            return _json_error(409, "that job is no longer waiting (delivered, cancelled or unknown)")
        return web.json_response({"ok": True})

    @r.post("/attention/{job}/{verb:retry|cancel}")
    async def attention_act(request: web.Request) -> web.Response:
        verb = request.match_info["verb"]
        done = await _outbox_act(verb, request.match_info["job"])
        message = ("Retrying now." if verb == "retry" else "Cancelled.") if done else "That job is no longer waiting."
        raise web.HTTPSeeOther("/attention?done=" + quote(message))

    @r.post("/api/attention/sms/{failure}/dismiss")
    async def api_sms_dismiss(request: web.Request) -> web.Response:
        if not await _dismiss_sms(request.match_info["failure"]):
            return _json_error(409, "that failed SMS is already dismissed or unknown")
        return web.json_response({"ok": True})

    @r.post("/attention/sms/{failure}/dismiss")
    async def sms_dismiss(request: web.Request) -> web.Response:
        done = await _dismiss_sms(request.match_info["failure"])
        raise web.HTTPSeeOther("/attention?done=" + quote("Dismissed." if done else "That SMS was already dismissed."))

    # ---- knowledge pages and catalog sync
    async def _history() -> list[dict]:
        return await console.call(console.jobs.history)

    @r.get("/knowledge")
    async def knowledge_list(request: web.Request) -> web.Response:
        root = knowledge_pages.knowledge_dir()
        return _page(pages.knowledge_page(session(request), knowledge_pages.pages(root), await _history(),
                                          request.query.get("done", "")[:200], request.query.get("error", "")[:200]))

    @r.get("/knowledge/edit")
    async def knowledge_edit(request: web.Request) -> web.Response:
        root, page = knowledge_pages.knowledge_dir(), request.query.get("page", "")
        try:
            text = knowledge_pages.read(root, page)
        except knowledge_pages.BadPage as bad:
            return _page(pages.error_page(404, str(bad), session(request)), 404)
        generated = knowledge_pages.is_generated(root, page)
        return _page(pages.editor_page(session(request), page, text, knowledge_pages.preview(text), generated,
                                       request.query.get("done", "")[:200]))

    @r.post("/knowledge/edit")
    async def knowledge_save(request: web.Request) -> web.Response:
        form = await request.post()
        root, page, text = knowledge_pages.knowledge_dir(), str(form.get("page") or ""), form.get("text")
        try:
            await console.call(knowledge_pages.save, root, page, text if isinstance(text, str) else None)
        except knowledge_pages.BadPage as bad:
            shown = text if isinstance(text, str) else ""
            return _page(pages.editor_page(session(request), page, shown, knowledge_pages.preview(shown),
                                           False, error=str(bad)), 400)  # the text stays in the form: nothing lost
        state = console.jobs.start_or_queue("index", session(request).user.name)
        log.info("knowledge page saved; re-index %s", state)
        done = "Saved. Re-indexing now." if state == "started" else "Saved. It is indexed after the run in progress."
        raise web.HTTPSeeOther(f"/knowledge/edit?page={quote(page)}&done={quote(done)}")

    @r.post("/api/knowledge/preview")
    async def knowledge_preview(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _json_error(400, "the body must be JSON: {\"text\": ...}")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or len(text.encode()) > knowledge_pages.MAX_BYTES:
            return _json_error(400, "'text' must be markdown of at most 100 KB")
        return web.json_response({"html": knowledge_pages.preview(text)})

    async def _sync(request: web.Request) -> str:
        return console.jobs.start("sync", session(request).user.name)

    @r.post("/api/sync")
    async def api_sync(request: web.Request) -> web.Response:
        try:
            job_id = await _sync(request)
        except AlreadyRunning as busy:
            return _json_error(409, str(busy))
        return web.json_response({"job": job_id, "status": "running"}, status=202)

    @r.post("/knowledge/sync")
    async def knowledge_sync(request: web.Request) -> web.Response:
        try:
            await _sync(request)
        except AlreadyRunning as busy:
            raise web.HTTPSeeOther("/knowledge?error=" + quote(str(busy)))
        raise web.HTTPSeeOther("/knowledge?done=" + quote("Catalog sync started."))

    @r.get("/api/jobs")
    async def api_jobs(request: web.Request) -> web.Response:
        kind = request.query.get("kind") or None
        return web.json_response({"jobs": await console.call(console.jobs.history, kind),
                                  "progress": console.jobs.progress})

    # ---- improve: knowledge gaps
    def _days(request: web.Request) -> int:
        try:
            days = int(request.query.get("days") or 30)
        except ValueError:
            raise web.HTTPBadRequest(reason="'days' must be a whole number") from None
        if not 1 <= days <= 365:
            raise web.HTTPBadRequest(reason="'days' must be 1 to 365")
        return days

    @r.get("/improve")
    async def improve_page(request: web.Request) -> web.Response:
        days = _days(request)
        return _page(pages.improve_page(session(request), await console.call(gaps.knowledge_gaps, db, days), days))

    @r.get("/api/gaps")
    async def api_gaps(request: web.Request) -> web.Response:
        return web.json_response({"gaps": await console.call(gaps.knowledge_gaps, db, _days(request))})

    # ---- overview
    def _range(request: web.Request) -> tuple:
        from datetime import datetime

        today = datetime.now(summaries.TZ).date()
        return overview.date_range(request.query.get("from"), request.query.get("to"), today)

    @r.get("/overview")
    async def overview_page(request: web.Request) -> web.Response:
        try:
            start, end = _range(request)
            error = ""
        except overview.BadRange as bad:
            start, end = _range_default()
            error = str(bad)
        data = await console.call(overview.series, db, start, end)
        return _page(pages.overview_page(session(request), data, error), 400 if error else 200)

    def _range_default() -> tuple:
        from datetime import datetime

        return overview.date_range(None, None, datetime.now(summaries.TZ).date())

    @r.get("/api/overview")
    async def api_overview(request: web.Request) -> web.Response:
        try:
            start, end = _range(request)
        except overview.BadRange as bad:
            return _json_error(400, str(bad))
        return web.json_response(await console.call(overview.series, db, start, end))

    @r.get("/overview.csv")
    async def overview_csv(request: web.Request) -> web.Response:
        try:
            start, end = _range(request)
            text = await console.call(overview.csv_text, db, start, end, request.query.get("metric"))
        except overview.BadRange as bad:
            return web.Response(status=400, text=str(bad))
        name = f"milea-{request.query.get('metric') or 'overview'}-{start}-{end}.csv"
        return web.Response(text=text, content_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @r.get("/vendor/chart.umd.js")
    async def chart_js(request: web.Request) -> web.StreamResponse:
        if not CHART_JS.exists():
            raise web.HTTPNotFound(reason="chart.js is not installed: make console-deps")
        return web.FileResponse(CHART_JS, headers={"Cache-Control": "max-age=86400"})

    # ---- admin: staff accounts
    @r.get("/admin/users")
    async def users(request: web.Request) -> web.Response:
        return _page(pages.users_page(session(request), await console.call(accounts.users),
                                      request.query.get("done", "")[:100]))

    @r.post("/admin/users")
    async def add_user(request: web.Request) -> web.Response:
        form = await request.post()
        try:
            user = await console.call(accounts.create_user, str(form.get("email") or ""),
                                      str(form.get("password") or ""), str(form.get("role") or "staff"),
                                      str(form.get("name") or ""))
        except AccountError as bad:
            return _page(pages.users_page(session(request), await console.call(accounts.users), error=str(bad)), 400)
        log.info("account created (%s)", user.role)
        raise web.HTTPSeeOther("/admin/users?done=" + quote(f"Added {user.email}."))

    @r.post("/admin/users/unlock")
    async def unlock(request: web.Request) -> web.Response:
        form = await request.post()
        await console.call(accounts.unlock, str(form.get("email") or ""))
        raise web.HTTPSeeOther("/admin/users?done=Unlocked.")

    r.static("/static", STATIC)
    return r


def build(settings: ConsoleSettings) -> tuple[web.Application, Console]:
    console = Console(settings)
    schema.create(console.db)
    app = web.Application(middlewares=[console.guard], client_max_size=64 * 1024)
    app.add_routes(routes(console))

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
