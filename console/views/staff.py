"""Sign-in and sign-out (pages and API) and the admins' staff accounts page."""
from __future__ import annotations

import logging
import secrets
from typing import Any, Optional
from urllib.parse import quote

from aiohttp import web

from console import pages
from console.accounts import AccountError, same
from console.views.common import console_of, cookie_name, json_error, page, safe_next, secure, session

log = logging.getLogger("console")
routes = web.RouteTableDef()
# Their names as sent: cookie_name() makes them `__Host-` cookies over HTTPS (Secure, Path=/, no Domain).
COOKIE = "milea_console"
PRE_COOKIE = "milea_console_pre"  # login-form CSRF before there is a session


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    # kept while it lives: a second tab (or the browser's favicon request redirected here) must not
    # invalidate the form already shown
    current = request.cookies.get(cookie_name(request, PRE_COOKIE), "")
    pre = current if 16 <= len(current) <= 64 else secrets.token_urlsafe(16)
    message = "Your session expired: sign in again." if request.query.get("expired") else ""
    response = page(pages.login_page(pre, safe_next(request.query.get("next", "/")), message))
    response.set_cookie(cookie_name(request, PRE_COOKIE), pre, httponly=True, samesite="Strict",
                        secure=secure(request), path="/", max_age=3600)
    return response


async def _sign_in(request: web.Request, email: str, password: str) -> tuple[Optional[Any], str]:
    console = console_of(request)
    result = await console.call(console.accounts.sign_in, email, password)
    if result.user:
        log.info("sign-in: ok (%s)", result.user.role)
        return result.user, ""
    if result.locked_for:
        log.warning("sign-in: refused, locked")
        minutes = max(1, round(result.locked_for / 60))
        return None, f"Too many failed sign-ins: this account is locked for about {minutes} min."
    log.info("sign-in: wrong email or password")
    return None, "Wrong email or password."


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    console = console_of(request)
    form = await request.post()
    pre, next_path = str(form.get("pre") or ""), safe_next(str(form.get("next") or "/"))
    email = str(form.get("email") or "")[:256]
    if not same(pre, request.cookies.get(cookie_name(request, PRE_COOKIE))):
        return page(pages.login_page(secrets.token_urlsafe(16), next_path,
                                     "The sign-in form expired: please try again.", email), 403)
    user, message = await _sign_in(request, email, str(form.get("password") or ""))
    if not user:
        return page(pages.login_page(pre, next_path, message, email), 401)
    token, _ = await console.call(console.accounts.open_session, user, "cookie")
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(cookie_name(request, COOKIE), token, httponly=True, samesite="Lax", secure=secure(request),
                        path="/")
    # removed with the attributes it was set with (a browser ignores a __Host- deletion that is not Secure)
    response.del_cookie(cookie_name(request, PRE_COOKIE), path="/", secure=secure(request), httponly=True,
                        samesite="Strict")
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    console = console_of(request)
    await console.call(console.accounts.close_session, session(request))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(cookie_name(request, COOKIE), path="/", secure=secure(request), httponly=True, samesite="Lax")
    raise response


@routes.post("/api/login")
async def api_login(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        return json_error(415, "send JSON: {\"email\": ..., \"password\": ...}")
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, "the body must be JSON")
    if not isinstance(body, dict) or not isinstance(body.get("email"), str) or not isinstance(
            body.get("password"), str):
        return json_error(400, "'email' and 'password' are required")
    user, message = await _sign_in(request, body["email"], body["password"])
    if not user:
        return json_error(423 if "locked" in message else 401, message)
    console = console_of(request)
    token, _ = await console.call(console.accounts.open_session, user, "bearer")
    return web.json_response({"token": token, "user": {"email": user.email, "name": user.name, "role": user.role}})


@routes.post("/api/logout")
async def api_logout(request: web.Request) -> web.Response:
    console = console_of(request)
    await console.call(console.accounts.close_session, session(request))
    return web.json_response({"signed_out": True})


# ---- admin: staff accounts (the guard lets admins only into /admin/)
@routes.get("/admin/users")
async def users(request: web.Request) -> web.Response:
    console = console_of(request)
    return page(pages.users_page(session(request), await console.call(console.accounts.users),
                                 request.query.get("done", "")[:100]))


@routes.post("/admin/users")
async def add_user(request: web.Request) -> web.Response:
    console = console_of(request)
    form = await request.post()
    try:
        user = await console.call(console.accounts.create_user, str(form.get("email") or ""),
                                  str(form.get("password") or ""), str(form.get("role") or "staff"),
                                  str(form.get("name") or ""))
    except AccountError as bad:
        return page(pages.users_page(session(request), await console.call(console.accounts.users), error=str(bad)),
                    400)
    log.info("account created (%s)", user.role)
    raise web.HTTPSeeOther("/admin/users?done=" + quote(f"Added {user.email}."))


@routes.post("/admin/users/unlock")
async def unlock(request: web.Request) -> web.Response:
    console = console_of(request)
    form = await request.post()
    await console.call(console.accounts.unlock, str(form.get("email") or ""))
    raise web.HTTPSeeOther("/admin/users?done=Unlocked.")
