"""Answering a question wherever it is asked, including in the middle of a form."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.hours import hours_answer, system_clock
from actions.knowledge.service import INTENT_DOMAINS
from actions.common import latest_text
from actions.responder import Outcome, respond

QUESTION_INTENTS = frozenset(INTENT_DOMAINS) | {"ask_hours"}


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
    """The answer the question's own action would give (shared functions, not its run())."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    default = hours_answer(system_clock) if intent == "ask_hours" else None
    return (await respond(dispatcher, tracker, default=default)).events


async def _no_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
    return Outcome()


async def answer_of_a_fact(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict] | None:
    """The answer to a question about one of our things inside the latest message ("the lobster roll
    was amazing, how much is it?"), sent; None, with nothing sent, when it asks no such thing."""
    if "?" not in latest_text(tracker):
        return None
    probe = CollectingDispatcher()
    outcome = await respond(probe, tracker, default=_no_answer)
    if not probe.messages:
        return None
    dispatcher.messages.extend(probe.messages)
    return outcome.events


def is_question(tracker: Tracker, min_confidence: float = 0.6) -> bool:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") in QUESTION_INTENTS and float(intent.get("confidence") or 0) >= min_confidence
