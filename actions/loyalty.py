"""check_points: a Milea Miles balance, only for a customer who proved who they are
(actions/identity.py); anyone else is offered verify_form first."""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Dict, List, Optional, Text

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce7.connection import get_client
from core.commerce7.errors import Commerce7Error, NotFound
from core.commerce7.models import Customer
from actions.answering.facts import load as load_facts
from actions.answering.interpret import mentioned
from actions.common import contact_line, latest_text
from actions.answering.numbers import states_points
from actions.identity import identified_customer
from actions.texts import say
from core.texts import render
from actions.settings import get_settings
from actions.responder import respond
from actions.verification import PURPOSE_POINTS, start_events

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def rewards() -> list[dict]:
    path = get_settings().knowledge_dir / "loyalty" / "rewards.yml"
    return sorted(yaml.safe_load(path.read_text(encoding="utf-8"))["rewards"], key=lambda r: r["points"])


def next_reward(points: int) -> Optional[dict]:
    return next((r for r in rewards() if r["points"] > points), None)


def reward_note(points: int) -> str:
    """What the balance buys now and what it nears, in the words of domain.yml ('' for neither)."""
    note = ""
    reachable = [r for r in rewards() if r["points"] <= points]
    if reachable:
        note += render("utter_points_can_redeem", reward=reachable[-1]["reward"],
                       points=f"{reachable[-1]['points']:,}")
    upcoming = next_reward(points)
    if upcoming:
        note += render("utter_points_next_reward", reward=upcoming["reward"], points=f"{upcoming['points']:,}",
                       missing=f"{upcoming['points'] - points:,}")
    return note


def balance_reply(points: int, tier: Optional[str]) -> str:
    """The balance message as text (what say_balance sends, rendered here)."""
    response, values = _balance(points, tier)
    return render(response, None, **values)


def _balance(points: int, tier: Optional[str]) -> tuple[str, dict]:
    values = {"points": f"{points:,}", "rewards": reward_note(points)}
    return ("utter_points_balance_tier", {**values, "tier": tier}) if tier else ("utter_points_balance", values)


def say_balance(dispatcher: CollectingDispatcher, customer: Optional[Customer]) -> None:
    if customer is None or customer.loyalty is None:
        say(dispatcher, "utter_points_no_account", contact=contact_line("wine_club"))
    else:
        response, values = _balance(customer.loyalty.points, customer.loyalty.tier)
        say(dispatcher, response, **values)


async def tell_balance(dispatcher: CollectingDispatcher, customer_id: str) -> None:
    """The balance of a customer whose identity was proven (e.g. by verify_form)."""
    try:
        customer: Optional[Customer] = await asyncio.wait_for(get_client().get_customer(customer_id), 8.0)
    except NotFound:
        customer = None
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("points lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_points_unavailable", contact=contact_line("wine_club"))
        return
    say_balance(dispatcher, customer)


def names_a_reward(text: str, knowledge_dir) -> bool:
    return bool(text) and bool(mentioned(text, load_facts(knowledge_dir).of("reward")))


class ActionCheckPoints(Action):
    def name(self) -> Text:
        return "action_check_points"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        settings = get_settings()
        if names_a_reward(latest_text(tracker), settings.knowledge_dir) or states_points(latest_text(tracker)):
            # "can I get a wine key with my points, how many does it take?" asks the reward's cost, which
            # needs no proof of who is asking
            outcome = await respond(dispatcher, tracker, intent="ask_loyalty")
            return [*outcome.events, SlotSet("verification_needed", None)]
        try:
            customer = await identified_customer(tracker, settings, get_client())
        except (Commerce7Error, asyncio.TimeoutError) as exc:
            log.warning("points lookup failed: %s", type(exc).__name__)
            say(dispatcher, "utter_points_unavailable", contact=contact_line("wine_club"))
            return [SlotSet("verification_needed", None)]
        if customer is None and (settings.sms_codes_enabled or settings.email_codes_enabled):
            return start_events(PURPOSE_POINTS)   # verify_form asks for the account's email or phone
        if customer is None:   # no way to send a code from this deployment: say how else to prove it
            say(dispatcher, "utter_points_need_verification")
            return [SlotSet("verification_needed", None)]
        say_balance(dispatcher, customer)
        return [SlotSet("verification_needed", None)]
