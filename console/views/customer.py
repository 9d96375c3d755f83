"""The proven customer beside a conversation (console/customer_summary.py): the API route; the
conversation page shows the same summary (console/views/conversation.py)."""
from __future__ import annotations

from typing import Any, Optional

from aiohttp import web

from console import customer_summary, inbox
from console.views.common import console_of

routes = web.RouteTableDef()


async def for_conversation(request: web.Request, sender_id: str) -> Optional[dict[str, Any]]:
    """The Commerce7 summary of the customer this conversation proved to be, or None."""
    console = console_of(request)
    customer_id = await console.call(customer_summary.proven_customer, console.db, sender_id)
    return await customer_summary.summary(customer_id) if customer_id else None


@routes.get("/api/conversations/{id}/customer")
async def api_customer(request: web.Request) -> web.Response:
    console = console_of(request)
    sender_id = request.match_info["id"]
    if await console.call(inbox.summary, console.db, sender_id) is None:
        return web.json_response({"error": "no conversation with that id"}, status=404)
    return web.json_response({"customer": await for_conversation(request, sender_id)})
