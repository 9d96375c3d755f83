"""The proof gate: who this conversation has proven to be, or the proof step.

Every action of the package asks `owner()` first. A proven customer is returned (and remembered in the
`account_customer` slot, which the staff console reads to show that customer's summary); anyone else
gets verify_form with the action's purpose, and the purpose is finished by `after_proof` once the code
is right (actions/verification_form.py calls it).
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answering.numbers import states_points
from actions.commerce7.connection import get_client
from actions.common import contact_line, latest_entities, latest_text
from actions.identity import identified_customer
from actions.handoff import hand_off
from actions.responder import WANTS_A_PERSON, answer_from_knowledge, respond, winery_intent_of
from actions.settings import get_settings
from actions.texts import say
from actions.verification import start_events
from core.commerce7.errors import Commerce7Error, NotFound
from core.commerce7.models import Customer
from core.clock import system_clock

log = logging.getLogger(__name__)

ACCOUNT_SLOT = "account_customer"
# verify_purpose values of this package: what to do once the code is right
PURPOSE_ORDERS, PURPOSE_DAMAGE, PURPOSE_CLUB = "orders", "order_damage", "club"
PURPOSE_DETAILS, PURPOSE_POINTS_HISTORY, PURPOSE_CHANGE = "details", "points_history", "account_change"


# purposes whose question has a general answer too (when club shipments go out, how Milea Miles are
# earned); an order, a damaged box or a change is only ever the customer's own
GENERAL_TOO = frozenset({PURPOSE_CLUB, PURPOSE_POINTS_HISTORY})


def idle_events() -> List[Dict[str, Any]]:
    """Neither a proof nor a change follows (the rules listen next)."""
    return [SlotSet("verification_needed", None), SlotSet("change_requested", None)]


# Whose details a message asks for: an account question has the customer in it ("my email", "do you
# have me on file", "points for 845-555-0123"); one that speaks only of the winery ("what's your phone
# number?", "ur email?") asks the winery's, and the knowledge base answers it without any proof.
_CUSTOMER = re.compile(r"\b(i|i'm|im|i've|ive|i'd|me|my|mine|myself|we|we're|our|ours|us)\b", re.I)
_WINERY = re.compile(r"\b(you|your|yours|ur|u|y'all|yall|the winery|milea)\b|"
                     r"\bthe (e-?mail|email address|phone|phone number|number) (for|to|of)\b", re.I)


def asks_about_the_winery(tracker: Tracker) -> bool:
    text = latest_text(tracker)
    return bool(_WINERY.search(text)) and not _CUSTOMER.search(text) \
        and not latest_entities(tracker, "email", "phone")


# "can you tell me ...", "let me know ...": the customer asking, not the customer asked about
_ASKING = re.compile(r"\b(tell|show|give|let|send|help) me\b", re.I)


def names_nobody(tracker: Tracker) -> bool:
    """Neither the customer ("my", "I", "we") nor their email or phone is in the message."""
    return not _CUSTOMER.search(_ASKING.sub(" ", latest_text(tracker))) \
        and not latest_entities(tracker, "email", "phone")


@dataclass
class Gate:
    customer: Optional[Customer]
    events: List[Dict[str, Any]] = field(default_factory=list)


async def owner(dispatcher: CollectingDispatcher, tracker: Tracker, purpose: str) -> Gate:
    """The proven customer, or the events that start the proof step (or say why it cannot be done)."""
    if WANTS_A_PERSON.search(latest_text(tracker)):
        # "ok i need a human. my club shipment showed up broken": the person asked for, whatever the account
        await hand_off(dispatcher, tracker, system_clock())
        return Gate(None, idle_events())
    if asks_about_the_winery(tracker):
        await answer_from_knowledge(dispatcher, tracker, "nlu_fallback")
        return Gate(None, idle_events())
    if states_points(latest_text(tracker)):
        # "I have about 5000 points, what can I get?": what that many buy; no balance is looked up
        outcome = await respond(dispatcher, tracker, intent="ask_loyalty")
        return Gate(None, [*outcome.events, *idle_events()])
    settings = get_settings()
    try:
        customer = await identified_customer(tracker, settings, get_client())
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("account lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_account_unavailable", contact=contact_line())
        return Gate(None, idle_events())
    if customer is not None:
        return Gate(customer, [SlotSet(ACCOUNT_SLOT, customer.id)])
    if purpose in GENERAL_TOO and names_nobody(tracker):
        # "when's the next shipment going out?", "and last drink order?" from someone not proven: the
        # winery's answer (shipments go out in December, last call), not a proof step for an account
        # the message never spoke of
        outcome = await respond(dispatcher, tracker, intent=await winery_intent_of(tracker) or "nlu_fallback")
        return Gate(None, [*outcome.events, *idle_events()])
    if settings.sms_codes_enabled or settings.email_codes_enabled:
        return Gate(None, [*start_events(purpose), SlotSet("change_requested", None)])
    say(dispatcher, "utter_account_need_verification")
    return Gate(None, idle_events())


async def customer_by_id(dispatcher: CollectingDispatcher, customer_id: str) -> Optional[Customer]:
    """The customer a code just proved (None, with a reply, when Commerce7 cannot say)."""
    try:
        return await asyncio.wait_for(get_client().get_customer(customer_id), 8.0)
    except NotFound:
        say(dispatcher, "utter_account_missing", contact=contact_line())
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("account lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_account_unavailable", contact=contact_line())
    return None


Finisher = Callable[[CollectingDispatcher, Tracker, Customer], Awaitable[List[Dict[str, Any]]]]
_FINISHERS: Dict[str, Finisher] = {}


def finishes(purpose: str) -> Callable[[Finisher], Finisher]:
    """Register what a purpose does once the customer is proven (the same code as the direct path)."""
    def register(fn: Finisher) -> Finisher:
        _FINISHERS[purpose] = fn
        return fn
    return register


def handles(purpose: Any) -> bool:
    return purpose in _FINISHERS


async def after_proof(dispatcher: CollectingDispatcher, tracker: Tracker, purpose: str,
                      owner_id: str) -> List[Dict[str, Any]]:
    """verify_form ended: do what was asked for the customer it proved (nothing when none was)."""
    if not owner_id:
        return [SlotSet("change_requested", None)]
    customer = await customer_by_id(dispatcher, owner_id)
    if customer is None:
        return [SlotSet("change_requested", None)]
    events = await _FINISHERS[purpose](dispatcher, tracker, customer)
    return [SlotSet(ACCOUNT_SLOT, customer.id), *[e for e in events if e.get("name") != "verification_needed"]]
