"""A Commerce7 webhook event -> the texts it sends (responses of domain.yml, SMS versions), queued once.

Handled (shapes in docs/commerce7.md, with what is verified in Commerce7's documentation and what is not):
- Order Create/Update with a pickup order marked ready (`pickupStatus` "Ready For Pickup", or a fulfillment
  of type "Ready For Pickup"): utter_c7_order_ready_pickup, once per order;
- Order Create/Update with a fulfillment of type "Shipped" carrying tracking numbers: utter_c7_order_shipped,
  once per order and tracking number;
- Club Package Create/Update (a club shipment with its processDate): utter_c7_club_processing to every active
  member of that club, once per member and package, with a reply path: 1 ship, 2 pick up, 3 a person.
Everything else is recorded and ignored. A delivery is only a hint: the order or package, and the customer's
phone, are read from Commerce7 itself before anything is texted. Only opted-in numbers are texted; the others are queued as
skipped (not_opted_in), which the console counts.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional
from urllib.parse import quote

from core.commerce7.client import Commerce7Client
from core.commerce7.errors import NotFound
from core.consent import ConsentLedger
from core.outreach import OutreachStore
from core.phones import sms_allowed, to_e164
from core.texts import render

log = logging.getLogger(__name__)
READY = "ready for pickup"


def _phone(customer: dict[str, Any]) -> Optional[str]:
    for entry in customer.get("phones") or []:
        number = to_e164(entry.get("phone") if isinstance(entry, dict) else entry)
        if number:
            return number
    return None


def _first_name(customer: dict[str, Any]) -> str:
    return str(customer.get("firstName") or "there").strip() or "there"


def _date(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%A, %B %-d")
    except ValueError:
        return str(value)


class EventTexts:
    def __init__(self, store: OutreachStore, ledger: ConsentLedger, client: Commerce7Client) -> None:
        self.store, self.ledger, self.client = store, ledger, client

    async def _customer(self, order: dict[str, Any]) -> dict[str, Any]:
        """The order's customer as Commerce7 has it (never the phone a delivery claims)."""
        embedded = order.get("customer")
        customer_id = order.get("customerId") or (embedded.get("id") if isinstance(embedded, dict) else None)
        if not customer_id:
            return {}
        found = await self.client.get_customer(str(customer_id))
        return found.raw

    async def _current(self, path: str, object_id: Any) -> Optional[dict[str, Any]]:
        """The object as Commerce7 has it now: a delivery is only a hint (its Basic auth is all that proves it),
        so nothing is texted from what it says; None when Commerce7 does not know the id."""
        try:
            found = await self.client.request("GET", f"{path}/{quote(str(object_id), safe='')}")
        except NotFound:
            return None
        return found if isinstance(found, dict) else None

    def _queue(self, key: str, customer: dict[str, Any], body: str,
               buttons: Optional[list[dict[str, str]]] = None) -> str:
        phone = _phone(customer)
        if not phone:
            self.store.enqueue(key, "event", "", body, reason="no_phone")
            return "skipped: no phone"
        reason = None
        if not sms_allowed(phone):
            reason = "refused_country"
        elif not self.ledger.opted_in(phone):
            reason = "opted_out" if self.ledger.status(phone) == "out" else "not_opted_in"
        new = self.store.enqueue(key, "event", phone, body, reason=reason, buttons=buttons)
        if not new:
            return "already queued"
        return f"skipped: {reason}" if reason else "queued"

    async def handle(self, event: dict[str, Any]) -> str:
        """What the event did, in a few words (kept with the event)."""
        obj, action, payload = event["object"], event["action"], event["payload"]
        if obj == "Order" and action in ("Create", "Update"):
            order = await self._current("order", payload.get("id"))
            return await self._order(order) if order else "nothing to send (no such order in Commerce7)"
        if obj == "Club Package" and action in ("Create", "Update"):
            package = await self._current("club-package", payload.get("id"))
            return await self._club_package(package) if package else "nothing to send (no such club package)"
        return "nothing to send"

    async def _order(self, order: dict[str, Any]) -> str:
        number = str(order.get("orderNumber") or order.get("id"))
        fulfillments = [f for f in order.get("fulfillments") or [] if isinstance(f, dict)]
        results = []
        ready = str(order.get("pickupStatus") or "").casefold() == READY or any(
            str(f.get("type") or "").casefold() == READY for f in fulfillments)
        if ready and str(order.get("orderDeliveryMethod") or "Pickup") in ("Pickup", "Carry Out"):
            customer = await self._customer(order)
            body = render("utter_c7_order_ready_pickup", "twilio", first_name=_first_name(customer),
                          order_number=number)
            results.append(self._queue(f"order:{order.get('id')}:ready", customer, body))
        for fulfillment in fulfillments:
            tracking = [str(t) for t in fulfillment.get("trackingNumbers") or [] if t]
            if str(fulfillment.get("type") or "").casefold() != "shipped" or not tracking:
                continue
            customer = await self._customer(order)
            body = render("utter_c7_order_shipped", "twilio", first_name=_first_name(customer), order_number=number,
                          carrier=str(fulfillment.get("carrier") or "the carrier"), tracking=", ".join(tracking))
            results.append(self._queue(f"order:{order.get('id')}:shipped:{tracking[0]}", customer, body))
        return "; ".join(results) or "nothing to send"

    async def _club_package(self, package: dict[str, Any]) -> str:
        club_id, package_id = str(package.get("clubId") or ""), str(package.get("id") or "")
        if not club_id or not package_id or not package.get("processDate"):
            return "nothing to send (no club, id or process date)"
        if str(package.get("status") or "").casefold() in ("processed", "cancelled"):
            return "nothing to send (already processed)"
        members = await self.client.list_memberships(club_id=club_id, active_only=True)
        counts: dict[str, int] = {}
        for membership in members:
            customer = (await self.client.get_customer(str(membership.customer_id))).raw
            club = str(package.get("clubTitle") or membership.raw.get("club", {}).get("title") or "club")
            body = render("utter_c7_club_processing", "twilio", first_name=_first_name(customer), club=club,
                          date=_date(package["processDate"]))
            buttons = [
                {"title": "ship", "payload": f"club_choice:ship:{package_id}:{club}"},
                {"title": "pick up", "payload": f"club_choice:pickup:{package_id}:{club}"},
                {"title": "a person", "payload": "/human_handoff"},
            ]
            result = self._queue(f"club-package:{package_id}:{membership.customer_id}", customer, body, buttons)
            counts[result] = counts.get(result, 0) + 1
        return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no active members"
