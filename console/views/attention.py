"""Needs attention: Commerce7 writes still owed (the outbox) and SMS that could not be sent; staff
retry, cancel or dismiss them (page forms and API)."""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional
from urllib.parse import quote

from aiohttp import web

from console import attention, pages
from console.db import ConsoleDB
from console.views.common import answer, console_of, json_error

log = logging.getLogger("console")
routes = web.RouteTableDef()


async def _on(request: web.Request, open_db: Callable[[], Optional[ConsoleDB]], fn: Callable[..., Any],
              *args: Any) -> Any:
    """fn(db, *args) in the worker thread, on a handle opened and closed for this call."""
    def work() -> Any:
        db = open_db()
        try:
            return fn(db, *args)
        finally:
            if db:
                db.close()
    return await console_of(request).call(work)


async def _outbox_act(request: web.Request, verb: str, job_id: str) -> bool:
    done = await _on(request, attention.outbox_db, attention.retry if verb == "retry" else attention.cancel, job_id)
    if done:
        log.info("outbox job %s by staff", verb)
    return bool(done)


async def _dismiss_sms(request: web.Request, failure_id: str) -> bool:
    done = await _on(request, attention.sms_db, attention.dismiss_sms, failure_id)
    if done:
        log.info("failed SMS dismissed by staff")
    return bool(done)


@routes.get("/attention")
@routes.get("/api/attention")
async def attention_view(request: web.Request) -> web.Response:
    data = {"outbox": await _on(request, attention.outbox_db, attention.jobs),
            "sms_failed": await _on(request, attention.sms_db, attention.failed_sms)}
    done = request.query.get("done", "")[:100]
    return answer(request, data, lambda s, d: pages.attention_page(s, d["outbox"], done, d["sms_failed"]))


@routes.post("/api/attention/{job}/{verb:retry|cancel}")
async def api_attention_act(request: web.Request) -> web.Response:
    if not await _outbox_act(request, request.match_info["verb"], request.match_info["job"]):
        return json_error(409, "that job is no longer waiting (delivered, cancelled or unknown)")
    return web.json_response({"ok": True})


@routes.post("/attention/{job}/{verb:retry|cancel}")
async def attention_act(request: web.Request) -> web.Response:
    verb = request.match_info["verb"]
    done = await _outbox_act(request, verb, request.match_info["job"])
    message = ("Retrying now." if verb == "retry" else "Cancelled.") if done else "That job is no longer waiting."
    raise web.HTTPSeeOther("/attention?done=" + quote(message))


@routes.post("/api/attention/sms/{failure}/dismiss")
async def api_sms_dismiss(request: web.Request) -> web.Response:
    if not await _dismiss_sms(request, request.match_info["failure"]):
        return json_error(409, "that failed SMS is already dismissed or unknown")
    return web.json_response({"ok": True})


@routes.post("/attention/sms/{failure}/dismiss")
async def sms_dismiss(request: web.Request) -> web.Response:
    done = await _dismiss_sms(request, request.match_info["failure"])
    raise web.HTTPSeeOther("/attention?done=" + quote("Dismissed." if done else "That SMS was already dismissed."))
