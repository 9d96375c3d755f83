"""My details (the email, phone and default address on file, masked) and the points history (the last
Milea Miles transactions and the next reward)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import present
from actions.account.owner import PURPOSE_DETAILS, PURPOSE_POINTS_HISTORY, finishes, idle_events, owner
from actions.commerce7.connection import get_client
from actions.common import contact_line
from actions.loyalty import reward_note
from actions.texts import say
from core.commerce7.errors import Commerce7Error
from core.commerce7.models import Customer
from core.texts import render

log = logging.getLogger(__name__)
BUDGET_S = 8.0
TRANSACTIONS_SHOWN = 3


@finishes(PURPOSE_DETAILS)
async def tell_details(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer) -> List[Dict[str, Any]]:
    try:
        addresses = await asyncio.wait_for(get_client().list_addresses(customer.id), BUDGET_S)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("address lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_account_unavailable", contact=contact_line())
        return idle_events()
    default = next((a for a in addresses if a.is_default), addresses[0] if addresses else None)
    say(dispatcher, "utter_my_details", email=present.mask_email(customer.email),
        phone=present.mask_phone(customer.phones[0] if customer.phones else None), address=present.mask_address(default))
    return idle_events()


@finishes(PURPOSE_POINTS_HISTORY)
async def tell_points_history(dispatcher: CollectingDispatcher, tracker: Tracker,
                              customer: Customer) -> List[Dict[str, Any]]:
    try:
        history = await asyncio.wait_for(get_client().list_loyalty_transactions(customer.id), BUDGET_S)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("points history lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_points_unavailable", contact=contact_line("wine_club"))
        return idle_events()
    if not history:
        say(dispatcher, "utter_points_history_none")
        return idle_events()
    latest = sorted(history, key=lambda t: t.created_at or "", reverse=True)[:TRANSACTIONS_SHOWN]
    lines = "; ".join(render("utter_points_history_line", date=present.day(t.created_at),
                             points=f"{t.points:+,}", notes=t.notes or "points") for t in latest)
    points = customer.loyalty.points if customer.loyalty else sum(t.points for t in history)
    say(dispatcher, "utter_points_history", lines=lines, points=f"{points:,}", rewards=reward_note(points))
    return idle_events()


class ActionMyDetails(Action):
    def name(self) -> Text:
        return "action_my_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        gate = await owner(dispatcher, tracker, PURPOSE_DETAILS)
        if gate.customer is None:
            return gate.events
        return [*gate.events, *await tell_details(dispatcher, tracker, gate.customer)]


class ActionPointsHistory(Action):
    def name(self) -> Text:
        return "action_points_history"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        gate = await owner(dispatcher, tracker, PURPOSE_POINTS_HISTORY)
        if gate.customer is None:
            return gate.events
        return [*gate.events, *await tell_points_history(dispatcher, tracker, gate.customer)]
