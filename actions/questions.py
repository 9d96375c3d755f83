"""Answering a question wherever it is asked, including in the middle of a form."""
from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answering.party import head_count
from actions.hours import hours_answer, system_clock
from actions.common import latest_text, with_link
from actions.knowledge.service import INTENT_DOMAINS
from actions.knowledge.text import clauses
from actions.responder import Outcome, clearly_found, knowledge_of, respond, winery_intent_of

QUESTION_INTENTS = frozenset(INTENT_DOMAINS) | {"ask_hours"}


async def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict]:
    """The answer the question's own action would give (shared functions, not its run())."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    default = hours_answer(system_clock) if intent == "ask_hours" else None
    return (await respond(dispatcher, tracker, default=default)).events


async def _no_answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
    return Outcome()


async def _found_in_knowledge(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
    """The knowledge's answer when it has one ("how long have they had the place?"); else nothing, and
    the message is the feedback it also reads as."""
    answer = await knowledge_of(tracker, latest_text(tracker), intent if intent != "nlu_fallback" else None)
    if clearly_found(answer):   # a guess would lose the feedback
        dispatcher.utter_message(text=with_link(answer.text, answer.url))
    return Outcome()


# "and how much is it", "so who runs the kitchen": a question without its question mark
_ASKS = re.compile(r"^\W*((and|so|ok|okay|also|btw|but)\W+)*(if\b[^?.!]*?\b)?(how|what|whats|what's|which|who|whos|"
                   r"who's|when|where|is|are|was|were|does|do|did|can|could|will|would|should|have|has)\b", re.I)   # ("if I join can I quit...")


# what a request to rate or review says: that request is the form's, whatever else it asks
_RATES = re.compile(r"\b(review|rate|rating|feedback|complain|complaint|suggest|suggestion|survey|stars?)\b", re.I)


def reads_as_question(text: str) -> bool:
    # a question after a preface counts too ("wait before i give u my info, how many points ...")
    asks = "?" in text or any(_ASKS.match(part) for part in clauses(text))
    return asks and not _RATES.search(text)


async def answer_of_a_fact(dispatcher: CollectingDispatcher, tracker: Tracker, topic: str = "") -> List[Dict] | None:
    """The answer to a question about one of our things inside the latest message ("the lobster roll
    was amazing, how much is it?"), or to a head count revised in it, sent; None, with nothing sent, when it asks no such thing or asks
    to rate or review ("can I leave a review of the private tour?")."""
    text = latest_text(tracker)
    if not reads_as_question(text) and head_count(text) is None:   # "my cousins are coming too, make it 18"
        return None
    probe = CollectingDispatcher()
    outcome = await respond(probe, tracker, default=_no_answer)
    if not probe.messages:
        # "had amazing rieslings on a trip, do you make one?": praise around a question of the winery's
        intent = await winery_intent_of(tracker)
        # (a form's own topic first: "if I sign up can I cancel whenever?" is a club question)
        outcome = await respond(probe, tracker, intent=intent or topic or "nlu_fallback", default=_found_in_knowledge)
    if not probe.messages:
        return None
    dispatcher.messages.extend(probe.messages)
    return outcome.events


def is_question(tracker: Tracker, min_confidence: float = 0.6) -> bool:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") in QUESTION_INTENTS and float(intent.get("confidence") or 0) >= min_confidence
