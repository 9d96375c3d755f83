"""Beside a conversation with a proven customer: that customer's Commerce7 summary (tier, points, last
order, club) and a link that opens the customer in Commerce7, so staff who take over do not ask again.

Which customer a conversation proved is what the action server recorded in the `account_customer` slot
(actions/account/owner.py): only the action server sets it, and only after a proof (a code, a signed
website token, or an SMS number on exactly one customer). Nothing is shown for a conversation that proved
no one. Commerce7 is read live with a short budget; when it does not answer, the page says so.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Optional

from console.db import ConsoleDB
from core.commerce7.connection import make_client
from core.commerce7.errors import Commerce7Error, NotFound
from core.commerce7.models import format_cents
from core.service_settings import ServiceSettings, env_or

log = logging.getLogger("console")
SLOT = "account_customer"
BUDGET_S = 4.0
ADMIN_DEFAULT = "https://admin.platform.commerce7.com/store/{tenant}"


def proven_customer(db: ConsoleDB, sender_id: str) -> Optional[str]:
    """The customer id the conversation last proved to be, or None (from the tracker's slot events)."""
    if not db.table_exists("events"):
        return None
    rows = db.all("SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' AND data LIKE ? "
                  "ORDER BY id DESC LIMIT 20", (sender_id, f'%"{SLOT}"%'))
    for (data,) in rows:
        try:
            body = json.loads(data or "{}")
        except ValueError:
            continue
        if body.get("name") == SLOT:
            value = body.get("value")
            return value if isinstance(value, str) and value else None
    return None


def admin_link(settings: ServiceSettings, customer_id: str) -> str:
    base = env_or("C7_ADMIN_URL", ADMIN_DEFAULT).rstrip("/").replace("{tenant}", settings.c7_tenant)
    return f"{base}/customer/{customer_id}"


def _day(iso: Optional[str]) -> str:
    return (iso or "")[:10]


async def summary(customer_id: str, settings: Optional[ServiceSettings] = None) -> dict[str, Any]:
    """{id, name, email, tier, points, club, last_order, link} or {id, error} when Commerce7 cannot say."""
    settings = settings or ServiceSettings.from_env()
    link = admin_link(settings, customer_id)
    client = make_client(settings, max_retries=0)
    try:
        async def read() -> dict[str, Any]:
            customer = await client.get_customer(customer_id)
            orders = await client.list_orders(customer_id, last=1)
            memberships = [m for m in await client.list_memberships(customer_id) if m.status in ("Active", "On Hold")]
            last = orders[0] if orders else None
            club = memberships[0] if memberships else None
            return {
                "id": customer.id, "link": link,
                "name": " ".join(x for x in (customer.first_name, customer.last_name) if x),
                "email": customer.email or "",
                "tier": (customer.loyalty.tier if customer.loyalty else None) or (club.club_title if club else None),
                "points": customer.loyalty.points if customer.loyalty else None,
                "club": ({"title": club.club_title, "status": club.status, "delivery": club.order_delivery_method}
                         if club else None),
                "last_order": ({"number": last.number, "date": _day(last.submitted), "state": last.state.replace("_", " "),
                                "total": format_cents(last.total_cents)} if last else None),
            }
        return await asyncio.wait_for(read(), BUDGET_S)
    except NotFound:
        return {"id": customer_id, "link": link, "error": "not found in Commerce7"}
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("customer summary unavailable: %s", type(exc).__name__)
        return {"id": customer_id, "link": link, "error": "Commerce7 did not answer"}
    finally:
        await client.aclose()
