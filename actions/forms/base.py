"""What every form shares: questions answered mid-form, "never mind" with a
confirmation, and a slot that fails twice explained in full.

Each slot is filled from the customer's text and checked by a plain validator
(actions/validators.py); nothing reaches Commerce7 without the read-back and an
explicit yes.
"""
from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any, Callable, Dict, List, Text, Tuple

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import clean_text, latest_intent, latest_text
from actions.questions import answer_of_a_fact, answer_question, is_question, reads_as_question
from actions.texts import say

# Words that stop a form whatever intent NLU gave them.
_STOP_WORDS = re.compile(r"^\s*(never ?mind|nevermind|stop|cancel|forget it|quit|exit|no thanks?,? stop|"
                         r"i changed my mind|start over)\b", re.I)
STOP_INTENTS = {"stop"}

# (validator, response with a short retry prompt, response with the full explanation after a second failure)
SlotRule = Tuple[Callable[[str], Any], str, str]


def wants_to_stop(tracker: Tracker) -> bool:
    text = clean_text((tracker.latest_message or {}).get("text"))
    return latest_intent(tracker) in STOP_INTENTS or bool(_STOP_WORDS.match(text))


class GuidedForm(FormValidationAction):
    """Subclasses set `form`, `rules` (slot -> SlotRule) and may add slot logic.

    The action is `validate_<form>`: with the action endpoint's `enable_selective_domain`
    (scripts/endpoints.py) Rasa sends its domain only to actions named validate_* or marked
    `send_domain: true` in domain.yml, and a form validator without the domain validates nothing.
    """

    form: str = ""
    rules: Dict[str, SlotRule] = {}
    blocked_slot = "form_blocked"
    # True: a message that would start the form but asks a fact about one of our things gets that
    # answer, and the form does not start (praise with a question is a question)
    answers_first = False
    topic = ""   # the knowledge topic a question asked while starting the form belongs to

    def name(self) -> Text:
        return f"validate_{self.form}"

    def answers_first_of(self, text: str) -> bool:
        """Whether a question in the message that starts the form is answered instead (answers_first)."""
        return self.answers_first

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot(self.blocked_slot):
            return []  # the form ends; its submit action explains why
        if tracker.get_slot("stop_requested"):
            return ["confirm_stop"]
        return self.slots_for(tracker, [s for s in domain_slots if s != "confirm_stop"])

    @abstractmethod
    def slots_for(self, tracker: Tracker, slots: List[Text]) -> List[Text]:
        """The slots to fill, in order, given the answers so far."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        requested = tracker.get_slot("requested_slot")
        if requested is None and self.answers_first_of(latest_text(tracker)):
            answered = await answer_of_a_fact(dispatcher, tracker, self.topic)
            if answered is not None:
                return [*answered, SlotSet("requested_slot", None)]
        if requested and requested != "confirm_stop" and wants_to_stop(tracker):
            return [SlotSet("stop_requested", True), SlotSet(requested, None),
                    SlotSet("requested_slot", "confirm_stop")]
        return await super().run(dispatcher, tracker, domain)

    async def check(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: DomainDict) -> Dict[Text, Any]:
        """Validate one slot: clean value, a question answered, or a retry prompt."""
        validator, retry, explain = self.rules[slot]
        text = clean_text(value) if isinstance(value, str) else value
        cleaned = validator(text) if text not in (None, "") else None
        if cleaned is not None and not (looks_like_question(tracker, text) and slot not in QUESTION_SAFE_SLOTS):
            return {slot: cleaned, "form_failures": self._reset(tracker, slot)}
        # a question NLU is only fairly sure of must read as one ("still nope" is a second try, not the hours)
        if is_question(tracker, SURE) or is_question(tracker) and reads_as_question(str(text or "")):
            await answer_question(dispatcher, tracker, domain)
            return {slot: None}
        if reads_as_question(str(text or "")) and await answer_of_a_fact(dispatcher, tracker) is not None:
            # "wait, is shipping extra?", "hold on, how many points do I earn on it" that NLU was not sure
            # of: answered, then asked again
            return {slot: None}
        failures = dict(tracker.get_slot("form_failures") or {})
        failures[slot] = failures.get(slot, 0) + 1
        say(dispatcher, explain if failures[slot] >= 2 else retry)
        return {slot: None, "form_failures": failures}

    def _reset(self, tracker: Tracker, slot: str) -> Dict[str, int]:
        failures = dict(tracker.get_slot("form_failures") or {})
        failures.pop(slot, None)
        return failures

    async def validate_confirm_stop(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        if value is True:
            return {"confirm_stop": None, "stop_requested": None, self.blocked_slot: "stopped"}
        if value is False:
            say(dispatcher, "utter_continue_form")
            return {"confirm_stop": None, "stop_requested": None}
        say(dispatcher, "utter_confirm_stop_retry")
        return {"confirm_stop": None}


def looks_like_question(tracker: Tracker, text: Any) -> bool:
    """A valid-looking answer that is really a question: NLU is sure, and it reads like one.

    Short answers ("Kim", "California") are answers whatever intent NLU guesses.
    """
    words = str(text or "").split()
    return is_question(tracker, 0.85) and ("?" in str(text or "") or len(words) > 4)


# NLU this sure of a question needs no question mark to be one ("hours" mid-form)
SURE = 0.85
# Slots whose valid values can look like questions to NLU (addresses name places).
QUESTION_SAFE_SLOTS = {"ship_street", "ship_city", "email", "phone", "birth_date", "ship_zip"}


def reset_events(slots: List[str]) -> List[Dict[str, Any]]:
    return [SlotSet(s, None) for s in slots]
