"""Improve: the questions the assistant could not answer, grouped by meaning (page and API)."""
from __future__ import annotations

from aiohttp import web

from console import gaps, pages
from console.views.common import answer, console_of

routes = web.RouteTableDef()


def _days(request: web.Request) -> int:
    try:
        days = int(request.query.get("days") or 30)
    except ValueError:
        raise web.HTTPBadRequest(reason="'days' must be a whole number") from None
    if not 1 <= days <= 365:
        raise web.HTTPBadRequest(reason="'days' must be 1 to 365")
    return days


@routes.get("/improve")
@routes.get("/api/gaps")
async def improve_view(request: web.Request) -> web.Response:
    days = _days(request)
    console = console_of(request)
    data = {"gaps": await console.call(gaps.knowledge_gaps, console.db, days), "days": days}
    return answer(request, data, lambda s, d: pages.improve_page(s, d["gaps"], d["days"]))
