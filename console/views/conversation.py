"""One conversation: its page, its transcript (API), its export as test or training data, and staff
taking it over, replying and giving it back (the page posts the same API with the CSRF header)."""
from __future__ import annotations

import hashlib
import logging

from aiohttp import web

from console import export, inbox, pages, takeover
from console.rasa_client import RasaUnavailable, Refused
from console.views.common import console_of, json_error, page, session
from console.views.customer import for_conversation

log = logging.getLogger("console")
routes = web.RouteTableDef()


async def _conversation(request: web.Request) -> dict:
    console = console_of(request)
    sender_id = request.match_info["id"]
    conv = await console.call(inbox.summary, console.db, sender_id)
    if conv is None:
        await console.refresh()  # a conversation a second old may not be folded yet
        conv = await console.call(inbox.summary, console.db, sender_id)
    if conv is None:
        raise web.HTTPNotFound(reason="no conversation with that id")
    return conv


@routes.get("/conversations/{id}")
async def conversation_page(request: web.Request) -> web.Response:
    try:
        conv = await _conversation(request)
    except web.HTTPNotFound:
        return page(pages.error_page(404, "No conversation with that id.", session(request)), 404)
    customer = await for_conversation(request, conv["id"])   # the proven customer's Commerce7 summary
    return page(pages.conversation_page(session(request), conv, customer))


@routes.get("/api/conversations/{id}")
async def api_conversation(request: web.Request) -> web.Response:
    console = console_of(request)
    conv = await _conversation(request)
    try:
        after = max(0, int(request.query.get("after") or 0))
    except ValueError:
        return json_error(400, "'after' must be an event id")
    turns, last = await console.call(inbox.transcript, console.db, conv["id"], after)
    me = session(request).user
    return web.json_response({"conversation": {**conv, "held_by_me": conv["taken_by_id"] == me.id},
                              "turns": turns, "last_event_id": last})


@routes.get("/api/conversations/{id}/export")
async def api_export(request: web.Request) -> web.Response:
    """?format=story|nlu&fix=<event id>:<intent>...: YAML ready for tests/ or data/nlu/."""
    console = console_of(request)
    conv = await _conversation(request)
    kind = request.query.get("format", "story")
    if kind not in ("story", "nlu"):
        return json_error(400, "'format' must be story or nlu")
    try:
        fixes = export.parse_fixes(request.query.getall("fix", []))
    except ValueError as bad:
        return json_error(400, str(bad))
    render = export.story_yaml if kind == "story" else export.nlu_yaml
    text = await console.call(render, console.db, conv["id"], fixes)
    digest = hashlib.sha1(conv["id"].encode()).hexdigest()[:8]  # never the id itself: it may be a phone
    name = f"{'test_console' if kind == 'story' else 'nlu_console'}_{digest}.yml"
    return web.Response(text=text, content_type="text/yaml",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _act(request: web.Request, action: str) -> web.Response:
    console = console_of(request)
    conv = await _conversation(request)
    user = session(request).user
    try:
        if action == "takeover":
            await takeover.take(console.db, console.rasa, conv["id"], user)
        elif action == "release":
            await takeover.give_back(console.db, console.rasa, conv["id"], user)
        else:
            try:
                body = await request.json()
            except ValueError:
                return json_error(400, "the body must be JSON: {\"text\": ...}")
            text = body.get("text") if isinstance(body, dict) else None
            await takeover.reply(console.db, console.rasa, conv["id"], user, text, conv["channel"])
    except ValueError as bad:
        return json_error(413 if "characters" in str(bad) else 400, str(bad))
    except takeover.Conflict as conflict:
        return json_error(409, str(conflict))
    except takeover.NotFound as missing:
        return json_error(404, str(missing))
    except Refused as refused:
        return json_error(refused.status if refused.status in (400, 404, 409, 413) else 502, refused.reason)
    except RasaUnavailable as down:
        return json_error(502, str(down))
    log.info("conversation %s by %s", action, user.role)
    await console.refresh()
    return web.json_response({"ok": True, "conversation": await console.call(inbox.summary, console.db, conv["id"])})


@routes.post("/api/conversations/{id}/takeover")
async def api_takeover(request: web.Request) -> web.Response:
    return await _act(request, "takeover")


@routes.post("/api/conversations/{id}/release")
async def api_release(request: web.Request) -> web.Response:
    return await _act(request, "release")


@routes.post("/api/conversations/{id}/messages")
async def api_message(request: web.Request) -> web.Response:
    return await _act(request, "message")
