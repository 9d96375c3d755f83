"""Answering a question wherever it is asked, including in the middle of a form."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.hours import hours_answer, system_clock
from actions.knowledge.service import INTENT_DOMAINS
from actions.responder import respond

QUESTION_INTENTS = frozenset(INTENT_DOMAINS) | {"ask_hours"}


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
    """The answer the question's own action would give (shared functions, not its run())."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    default = hours_answer(system_clock) if intent == "ask_hours" else None
    return (await respond(dispatcher, tracker, default=default)).events


def is_question(tracker: Tracker, min_confidence: float = 0.6) -> bool:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") in QUESTION_INTENTS and float(intent.get("confidence") or 0) >= min_confidence
