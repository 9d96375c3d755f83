"""The inbox: conversations with filters and the queue of people waiting for staff (page and API)."""
from __future__ import annotations

from aiohttp import web

from console import inbox, pages
from console.views.common import console_of, json_error, page, session

routes = web.RouteTableDef()


async def _list(request: web.Request) -> tuple[list[dict], inbox.Filters]:
    f = inbox.Filters.parse(request.query)
    console = console_of(request)
    return await console.call(inbox.conversations, console.db, f), f


async def _queue(request: web.Request) -> list[dict]:
    console = console_of(request)
    return await console.call(inbox.handoff_queue, console.db)


@routes.get("/")
async def inbox_page(request: web.Request) -> web.Response:
    try:
        items, f = await _list(request)
        error = ""
    except inbox.BadFilter as bad:
        items, f, error = [], inbox.Filters(), str(bad)
    return page(pages.inbox_page(session(request), items, await _queue(request), f, error), 400 if error else 200)


@routes.get("/inbox/rows")
async def inbox_rows(request: web.Request) -> web.Response:
    """The page's refresh: its table rows and queue, rendered."""
    try:
        items, _ = await _list(request)
    except inbox.BadFilter as bad:
        return web.Response(status=400, text=pages.e(bad))
    return web.json_response({"rows": pages.inbox_rows(items), "queue": pages.queue_list(await _queue(request))})


@routes.get("/api/conversations")
async def api_conversations(request: web.Request) -> web.Response:
    try:
        items, _ = await _list(request)
    except inbox.BadFilter as bad:
        return json_error(400, str(bad))
    return web.json_response({"conversations": items})


@routes.get("/api/handoffs")
async def api_handoffs(request: web.Request) -> web.Response:
    return web.json_response({"waiting": await _queue(request)})
