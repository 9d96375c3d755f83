"""The club membership of a proven customer: tier, status, member since, ship or pickup (and where), the
next shipment (the club's next package: its date and wines), and the secure link for a new card."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import present
from actions.account.owner import PURPOSE_CLUB, finishes, idle_events, owner
from actions.commerce7.connection import get_client
from actions.common import contact_line
from actions.settings import get_settings
from actions.texts import say
from core.commerce7.client import Commerce7Client
from core.commerce7.errors import Commerce7Error
from core.commerce7.models import Address, ClubMembership, Customer, InventoryLocation
from core.texts import render

log = logging.getLogger(__name__)
BUDGET_S = 8.0


async def active_membership(client: Commerce7Client, customer_id: str) -> Optional[ClubMembership]:
    memberships = await asyncio.wait_for(client.list_memberships(customer_id), BUDGET_S)
    active = [m for m in memberships if m.status in ("Active", "On Hold")]
    return max(active, key=lambda m: m.signup_date or "", default=None)


async def pickup_location(client: Commerce7Client, location_id: Optional[str]) -> Optional[InventoryLocation]:
    locations = await asyncio.wait_for(client.list_inventory_locations(), BUDGET_S)
    return next((loc for loc in locations if loc.id == location_id), locations[0] if locations else None)


async def ship_to(client: Commerce7Client, customer_id: str, address_id: Optional[str]) -> Optional[Address]:
    addresses = await asyncio.wait_for(client.list_addresses(customer_id), BUDGET_S)
    return next((a for a in addresses if a.id == address_id), None)


def tier_of(membership: ClubMembership) -> str:
    return membership.club_title or "club"


async def delivery_words(client: Commerce7Client, customer_id: str, membership: ClubMembership) -> str:
    if membership.order_delivery_method == "Pickup":
        location = await pickup_location(client, membership.pickup_location_id)
        return render("utter_club_delivery_pickup", location=location.title if location and location.title
                      else "the winery")
    address = await ship_to(client, customer_id, membership.ship_to_address_id)
    return render("utter_club_delivery_ship", address=present.address_line(address.raw) if address else "your address")


async def next_shipment(client: Commerce7Client, membership: ClubMembership) -> str:
    if membership.next_process_date:
        return render("utter_club_next_date", date=present.day(membership.next_process_date))
    if not membership.club_id:
        return ""
    package = await asyncio.wait_for(client.next_package(membership.club_id), BUDGET_S)
    if package is None or not package.process_date:
        return ""
    if package.items:
        return render("utter_club_next_package", date=present.day(package.process_date),
                      items=present.items(package.items))
    return render("utter_club_next_date", date=present.day(package.process_date))


@finishes(PURPOSE_CLUB)
async def tell_membership(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer) -> List[Dict[str, Any]]:
    client = get_client()
    try:
        membership = await active_membership(client, customer.id)
        if membership is None:
            say(dispatcher, "utter_club_none")
            return idle_events()
        delivery = await delivery_words(client, customer.id, membership)
        upcoming = await next_shipment(client, membership)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("membership lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_account_unavailable", contact=contact_line("wine_club"))
        return idle_events()
    say(dispatcher, "utter_club_membership", tier=tier_of(membership), status=(membership.status or "").lower(),
        since=present.day(membership.signup_date), delivery=delivery, next=upcoming)
    return idle_events()


class ActionMyMembership(Action):
    def name(self) -> Text:
        return "action_my_membership"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        gate = await owner(dispatcher, tracker, PURPOSE_CLUB)
        if gate.customer is None:
            return gate.events
        return [*gate.events, *await tell_membership(dispatcher, tracker, gate.customer)]


class ActionUpdateCard(Action):
    """A new card, a declined charge: the secure storefront link, for anyone (it shows nothing of an
    account), and never a card number in chat."""

    def name(self) -> Text:
        return "action_update_card"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        say(dispatcher, "utter_card_update", url=get_settings().store_account_url)
        return []
