"""Orders: "where's my order?", "did my wine ship?" (the last orders: date, items, total, where each one
is: carrier and tracking link, pickup location and hours, picked up), and "my bottle arrived broken"
(a hand-off to staff with the order attached: not a feedback form)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text
from urllib.parse import quote

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import present
from actions.account.owner import PURPOSE_DAMAGE, PURPOSE_ORDERS, finishes, idle_events, owner
from actions.commerce7.connection import get_client
from actions.common import clean_text, contact_line, winery
from actions.handoff import (CHANNEL_LABELS, HANDOFF_BUDGET_S, SMS_MAX_CHARS, console_link, customer_contact,
                             notify_staff, transcript)
from actions.handoff_notices import notify_once
from actions.settings import get_settings
from actions.texts import say
from actions.turns import turn_key
from core import business_hours
from core.commerce7.errors import Commerce7Error
from core.commerce7.models import Customer, InventoryLocation, Order
from core.phones import mask_phone
from core.texts import render

log = logging.getLogger(__name__)
ORDERS_SHOWN = 3
LOOKUP_BUDGET_S = 8.0
# The carriers' public tracking pages (a tracking number is appended); other carriers get the number only.
TRACKING_URLS = {
    "ups": "https://www.ups.com/track?tracknum=",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr=",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
    "dhl": "https://www.dhl.com/us-en/home/tracking.html?tracking-id=",
    "gso": "https://www.gls-us.com/track-and-trace?TrackingNumbers=",
}


def tracking_part(order: Order) -> str:
    shipment = order.shipment
    if shipment is None or not shipment.tracking_numbers:
        return ""
    number, carrier = shipment.tracking_numbers[0], shipment.carrier or ""
    base = next((url for key, url in TRACKING_URLS.items() if key in carrier.casefold().replace(" ", "")), None)
    if base:
        return render("utter_order_tracking", carrier=carrier, tracking_number=number, url=base + quote(number))
    return render("utter_order_tracking_number", carrier=carrier or "the carrier", tracking_number=number)


def pickup_hours() -> str:
    return business_hours.weekly_summary(business_hours.schedule_from(get_settings().knowledge_dir / "hours.yml"))


def location_words(location: Optional[InventoryLocation]) -> tuple[str, str]:
    """(name, street and town) of the pickup location; the winery's own when Commerce7 has none."""
    if location is not None and location.title:
        raw = location.raw
        where = ", ".join(str(raw.get(k)) for k in ("address", "city") if raw.get(k))
        return location.title, where or "the tasting room"
    return str(winery().get("name", "the winery")), "the tasting room"


def say_order(dispatcher: CollectingDispatcher, order: Order, locations: Dict[str, InventoryLocation]) -> None:
    common = {"number": order.number or "", "date": present.day(order.submitted),
              "items": present.items((i.title, i.quantity) for i in order.items), "total": present.money(order.total_cents)}
    state = order.state
    done_on = present.day(order.done_on)
    if state in ("shipped", "partly_shipped"):
        shipment = order.shipment
        shipped_on = present.day(shipment.date) if shipment else done_on
        say(dispatcher, "utter_order_shipped" if state == "shipped" else "utter_order_partly_shipped",
            shipped_on=shipped_on, tracking=tracking_part(order), **common)
    elif state == "ready_for_pickup":
        name, where = location_words(locations.get(order.pickup_location_id or ""))
        say(dispatcher, "utter_order_ready_pickup", location=name, address=where, hours=pickup_hours(), **common)
    elif state == "picked_up":
        say(dispatcher, "utter_order_picked_up", picked_on=done_on, **common)
    elif state == "done":
        say(dispatcher, "utter_order_complete", **common)
    else:
        say(dispatcher, "utter_order_preparing", **common)


async def last_orders(customer_id: str, count: int = ORDERS_SHOWN) -> tuple[list[Order], Dict[str, InventoryLocation]]:
    client = get_client()
    orders = await asyncio.wait_for(client.list_orders(customer_id, last=count), LOOKUP_BUDGET_S)
    locations: Dict[str, InventoryLocation] = {}
    if any(o.state == "ready_for_pickup" for o in orders):
        found = await asyncio.wait_for(client.list_inventory_locations(), LOOKUP_BUDGET_S)
        locations = {loc.id: loc for loc in found}
    return orders, locations


@finishes(PURPOSE_ORDERS)
async def tell_orders(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer) -> List[Dict[str, Any]]:
    try:
        orders, locations = await last_orders(customer.id)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("orders lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_account_unavailable", contact=contact_line())
        return idle_events()
    if not orders:
        say(dispatcher, "utter_orders_none", contact=contact_line())
        return idle_events()
    say(dispatcher, "utter_orders_intro")
    for order in orders:
        say_order(dispatcher, order, locations)
    return idle_events()


class ActionMyOrders(Action):
    def name(self) -> Text:
        return "action_my_orders"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        gate = await owner(dispatcher, tracker, PURPOSE_ORDERS)
        if gate.customer is None:
            return gate.events
        return [*gate.events, *await tell_orders(dispatcher, tracker, gate.customer)]


def damaged_order(orders: list[Order], text: str) -> Optional[Order]:
    """The order the customer names by number, else the latest that reached them (shipped or picked up)."""
    for order in orders:
        if order.number and order.number in text:
            return order
    return next((o for o in orders if o.state in ("shipped", "partly_shipped", "picked_up")), orders[0] if orders else None)


@finishes(PURPOSE_DAMAGE)
async def report_damage(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer) -> List[Dict[str, Any]]:
    """Staff are told at once with the order attached (number, items, date, carrier, tracking) and the
    conversation's last messages; the customer hears that the team will make it right."""
    settings = get_settings()
    info = winery()
    try:
        orders, _ = await last_orders(customer.id, count=10)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("orders lookup failed: %s", type(exc).__name__)
        orders = []
    text = " ".join(clean_text(e.get("text")) for e in tracker.events[-12:] if e.get("event") == "user")
    order = damaged_order(orders, text)
    contact = customer_contact(tracker)
    label = CHANNEL_LABELS.get(contact.channel, contact.channel)
    link = console_link(tracker.sender_id)
    name = " ".join(x for x in (customer.first_name, customer.last_name) if x) or "a customer"
    if order is not None:
        shipment = order.shipment
        attached = (f"Order #{order.number} of {present.day(order.submitted)} ({present.money(order.total_cents)}): "
                    f"{present.items((i.title, i.quantity) for i in order.items)}; {order.state.replace('_', ' ')}"
                    + (f", {shipment.carrier} {', '.join(shipment.tracking_numbers)}" if shipment else ""))
    else:
        attached = "No order found on the account."
    lines = transcript(tracker.events or [])
    reach = f"{contact.reach}; Commerce7 customer {customer.id} ({name}, proven)"
    sms_body = (f"Milea chat: damaged delivery reported.{chr(10) + 'Console: ' + link if link else ''}\n{attached}\n"
                f"Reach: {reach}\nLast messages:\n{lines}")
    subject = f"Milea chat: damaged delivery, order #{order.number if order else '?'} ({label})"
    email_body = (f"A customer reported a damaged delivery.\n\n{attached}\n\nCustomer: {reach}\n"
                  + (f"Answer in the console: {link}\n" if link else "") + f"\nLast messages:\n{lines}\n")
    results = await notify_once(settings.feedback_database, clean_text(tracker.sender_id, 128) or "unknown",
                                turn_key(tracker), HANDOFF_BUDGET_S,
                                lambda: notify_staff(settings, sms_body[:SMS_MAX_CHARS], subject, email_body),
                                settings.handoff_notice_cooldown_s)
    if not any(results.values()):
        say(dispatcher, "utter_damage_unavailable", phone=info["phone"], email=info["emails"]["general"],
            number=order.number if order else "")
        return idle_events()
    log.info("damaged delivery from %s: staff notified (%s)", label, mask_phone(contact.phone) if contact.sms else "web")
    if contact.sms:
        how = render("utter_handoff_how_sms")
    elif customer.email:
        how = render("utter_handoff_how_email", email=present.mask_email(customer.email))
    else:
        how = ""
    reach_us = "" if how else " " + render("utter_handoff_no_contact", phone=info["phone"], email=info["emails"]["general"])
    if order is not None:
        say(dispatcher, "utter_damage_reported", number=order.number or "",
            items=present.items((i.title, i.quantity) for i in order.items), how=how, reach_us=reach_us)
    else:
        say(dispatcher, "utter_damage_reported_no_order", how=how, reach_us=reach_us)
    return idle_events()


class ActionReportDamage(Action):
    def name(self) -> Text:
        return "action_report_damage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        gate = await owner(dispatcher, tracker, PURPOSE_DAMAGE)
        if gate.customer is None:
            return gate.events
        return [*gate.events, *await report_damage(dispatcher, tracker, gate.customer)]
