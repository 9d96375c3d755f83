"""Answering a question wherever it is asked, including in the middle of a form."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.hours import ActionTellHours
from actions.knowledge.service import INTENT_DOMAINS
from actions.knowledge_answers import ActionAnswerKnowledge
from actions.wine import ActionAnswerWine

QUESTION_INTENTS = frozenset(INTENT_DOMAINS) | {"ask_hours"}


def _handler(intent: str) -> Action:
    if intent == "ask_hours":
        return ActionTellHours()
    if intent == "ask_wine":
        return ActionAnswerWine()
    return ActionAnswerKnowledge()


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return await _handler(intent).run(dispatcher, tracker, domain)


def is_question(tracker: Tracker, min_confidence: float = 0.6) -> bool:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") in QUESTION_INTENTS and float(intent.get("confidence") or 0) >= min_confidence
