"""give_feedback: the feedback_form (a 1-5 rating, an optional comment) and its storage.

The record keeps the bot answer the customer saw just before asking to give
feedback (and the question it answered), so low ratings can be traced to answers.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import clean_text, contact_line
from core.feedback_store import MAX_TEXT, Feedback, FeedbackStore
from actions.forms.base import GuidedForm, reset_events
from actions.questions import answer_question, is_question
from actions.texts import say
from actions.turns import turn_key

log = logging.getLogger(__name__)

FORM = "feedback_form"
FORM_SLOTS = ["rating", "feedback_comment", "confirm_stop", "stop_requested", "form_blocked", "form_failures"]
NO_COMMENT = "-"
LOW_RATING = 2
STORE_BUDGET_S = 8.0

_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10}
_NUMBER = r"(\d+(?:\.\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten)"
_FRACTION = re.compile(rf"\b{_NUMBER}\s*(?:/|out of|of)\s*{_NUMBER}\b")
_STARS = re.compile(r"^[\s★⭐✩☆*]+$")
_SKIP = re.compile(
    r"^(?:skip(?: it| that)?|no|nope|nah|none|nothing(?: (?:else|more))?|n/?a|pass|no comments?|not really|"
    r"that'?s (?:all|it)|no,? thanks?|no,? thank you|i'?m good|all good)[\s.!,]*(?:thanks?|thank you)?[\s.!]*$",
    re.I)


def _number(token: str) -> Optional[float]:
    token = token.lower()
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    try:
        return float(token)
    except ValueError:
        return None


def parse_rating(text: Any) -> Optional[int]:
    """1-5 from "5", "five", "5 stars", "4/5", "4 out of 5", "★★★★"; None otherwise."""
    if not isinstance(text, str) or not text.strip() or len(text) > 200:
        return None
    text = clean_text(text).lower()
    if _STARS.match(text):
        count = sum(text.count(c) for c in "★⭐*")
        return count if 1 <= count <= 5 else None
    fraction = _FRACTION.search(text)
    if fraction:
        value, scale = _number(fraction.group(1)), _number(fraction.group(2))
        values = {value} if scale == 5 else set()
    else:
        values = {_number(t) for t in re.findall(rf"(?<![\w.]){_NUMBER}(?![\w.])", text)}
    if len(values) != 1:
        return None
    value = values.pop()
    if value is None or value != int(value) or not 1 <= value <= 5:
        return None
    return int(value)


def optional_comment(text: Any) -> Optional[str]:
    """The comment, NO_COMMENT for "skip"/"no", None when there is nothing usable."""
    text = clean_text(text, MAX_TEXT)
    if not text or text.startswith("/"):  # a button payload is not a comment
        return None
    return NO_COMMENT if _SKIP.match(text) else text


def answer_before_feedback(tracker: Tracker) -> Tuple[Optional[str], Optional[str]]:
    """(the bot answer before the feedback request, the customer message it answered)."""
    events = tracker.events or []
    start = None
    for i in range(len(events) - 1, -1, -1):  # the form's latest activation
        event = events[i]
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            start = i
            break
    if start is None:  # no activation seen: the latest give_feedback message
        for i in range(len(events) - 1, -1, -1):
            if events[i].get("event") == "user" and _intent(events[i]) == "give_feedback":
                start = i + 1
                break
    if start is None:
        return None, None
    users = [i for i in range(start) if events[i].get("event") == "user"]
    if not users:
        return None, None
    request = users[-1]  # "I'd like to leave feedback"
    previous = users[-2] if len(users) > 1 else None
    first = previous + 1 if previous is not None else 0
    answer = " ".join(clean_text(e.get("text"), MAX_TEXT) for e in events[first:request]
                      if e.get("event") == "bot" and e.get("text"))[:MAX_TEXT]
    if not answer:
        return None, None
    question = clean_text(events[previous].get("text"), MAX_TEXT) if previous is not None else ""
    return answer, (question if question and not question.startswith("/") else None)


def _intent(event: Dict[str, Any]) -> str:
    return (((event.get("parse_data") or {}).get("intent") or {}).get("name")) or ""


class ValidateFeedbackForm(GuidedForm):
    form = FORM
    answers_first = True
    rules = {
        "rating": (parse_rating, "utter_retry_feedback_form_rating", "utter_explain_feedback_form_rating"),
        "feedback_comment": (optional_comment, "utter_retry_feedback_form_feedback_comment",
                                               "utter_explain_feedback_form_feedback_comment"),
    }

    def slots_for(self, tracker: Tracker, slots: List[Text]) -> List[Text]:
        return [s for s in slots if s in self.rules]

    async def validate_rating(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        return await self.check("rating", value, dispatcher, tracker, domain)

    async def validate_feedback_comment(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> Dict[Text, Any]:
        # Comments about a tasting or a wine look like questions to NLU: only a real
        # question (with a question mark) is answered instead of being taken as the comment.
        comment = optional_comment(value)
        asked = is_question(tracker, 0.85) and "?" in clean_text(value)
        if comment is not None and not asked:
            return {"feedback_comment": comment, "form_failures": self._reset(tracker, "feedback_comment")}
        if is_question(tracker):
            await answer_question(dispatcher, tracker, domain)
            return {"feedback_comment": None}
        return await self.check("feedback_comment", value, dispatcher, tracker, domain)


class ActionSubmitFeedback(Action):
    def name(self) -> Text:
        return "action_submit_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        if tracker.get_slot("form_blocked") == "stopped":
            say(dispatcher, "utter_form_stopped")
            return reset_events(FORM_SLOTS)
        rating = tracker.get_slot("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            return reset_events(FORM_SLOTS)
        comment = tracker.get_slot("feedback_comment")
        answer, question = answer_before_feedback(tracker)
        item = Feedback(
            conversation_id=clean_text(tracker.sender_id, 128) or "unknown",
            channel=clean_text(tracker.get_latest_input_channel(), 64) or "unknown",
            kind="rating", rating=rating,
            comment=None if comment in (None, NO_COMMENT) else clean_text(comment, MAX_TEXT),
            answer_text=answer, question_text=question,
            turn_key=turn_key(tracker),  # a replayed call stores nothing twice
        )
        try:
            await asyncio.wait_for(asyncio.to_thread(FeedbackStore.from_settings().add, item), STORE_BUDGET_S)
        except Exception as exc:  # any storage failure gets the same honest answer
            log.error("feedback not stored: %s", type(exc).__name__)
            say(dispatcher, "utter_feedback_not_saved", contact=contact_line())
            return reset_events(FORM_SLOTS)
        log.info("feedback stored: rating %d, %s comment", rating, "with" if item.comment else "no")
        say(dispatcher, "utter_feedback_thanks_low" if rating <= LOW_RATING else "utter_feedback_thanks")
        return reset_events(FORM_SLOTS)
