"""check_points: a Milea Miles balance, only for a verified customer."""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Dict, List, Optional, Text

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.commerce7.connection import get_client
from actions.commerce7.errors import Commerce7Error, NotFound
from actions.common import contact_line
from actions.identity import identify
from actions.replies import say
from actions.settings import get_settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def rewards() -> list[dict]:
    path = get_settings().knowledge_dir / "loyalty" / "rewards.yml"
    return sorted(yaml.safe_load(path.read_text(encoding="utf-8"))["rewards"], key=lambda r: r["points"])


def next_reward(points: int) -> Optional[dict]:
    return next((r for r in rewards() if r["points"] > points), None)


def balance_reply(points: int, tier: Optional[str]) -> str:
    text = f"You have {points:,} Milea Miles points"
    text += f" ({tier} tier)." if tier else "."
    reachable = [r for r in rewards() if r["points"] <= points]
    if reachable:
        text += f" You can already redeem {reachable[-1]['reward']} ({reachable[-1]['points']:,} points)."
    upcoming = next_reward(points)
    if upcoming:
        text += (f" Your next reward is {upcoming['reward']} at {upcoming['points']:,} points: "
                 f"{upcoming['points'] - points:,} to go.")
    return text


class ActionCheckPoints(Action):
    def name(self) -> Text:
        return "action_check_points"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        who = identify(tracker, get_settings().customer_token_secret)
        if who is None:
            say(dispatcher, "points_need_verification")
            return []
        try:
            client = get_client()
            if who.customer_id:
                customer = await asyncio.wait_for(client.get_customer(who.customer_id), 8.0)
            else:
                customer = await asyncio.wait_for(client.find_customer_by_phone(who.phone), 8.0)
        except NotFound:
            customer = None
        except (Commerce7Error, asyncio.TimeoutError) as exc:
            log.warning("points lookup failed: %s", type(exc).__name__)
            dispatcher.utter_message(text=f"I can't reach our rewards system right now. Please try again in a "
                                          f"little while, or {contact_line('wine_club')}.")
            return []
        if customer is None or customer.loyalty is None:
            dispatcher.utter_message(text="I couldn't find a Milea Miles account for you. If you think you have "
                                          f"one, {contact_line('wine_club')}.")
            return []
        dispatcher.utter_message(text=balance_reply(customer.loyalty.points, customer.loyalty.tier))
        return []
