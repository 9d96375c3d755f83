"""ask_hours: opening hours from knowledge/hours.yml, for the moment asked.
A follow-up day ("what about Sunday?") is resolved by actions/responder.py."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from core import business_hours
from actions.common import latest_entities, latest_text
from actions.settings import get_settings
from core.clock import system_clock
from actions.responder import Outcome, respond
from actions.subject import names_a_day


# "the first week of january": a month asked by the hours question is a day to go on from (months spelt
# out, without "may": converse's shorter month pattern would read "may we come" as a date)
_MONTH = re.compile(r"\b(january|february|march|april|june|july|august|september|october|november|december)\b", re.I)


def hours_answer(clock: Callable[[], datetime]):
    """The hours action's own answer (now, this week), as a `respond` default."""
    async def answer(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
        schedule = business_hours.schedule_from(get_settings().knowledge_dir / "hours.yml")
        entities = latest_entities(tracker, "weekday", "date_phrase")
        text, now = latest_text(tracker), clock()
        dispatcher.utter_message(text=business_hours.hours_reply(schedule, now, text, entities))
        # the day asked (the date it meant, when one) is what "when do you reopen?" or "and the day after?"
        # goes on from
        day = text if names_a_day(text, entities) or _MONTH.search(text) else None
        day = day and (business_hours.day_said(text, entities, schedule, now) or day)
        return Outcome([SlotSet("subject_kind", "date"), SlotSet("subject_date", day), SlotSet("subject_aspect", "hours")])
    return answer


class ActionTellHours(Action):
    clock: Callable[[], datetime] = staticmethod(system_clock)

    def name(self) -> Text:
        return "action_tell_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        return (await respond(dispatcher, tracker, default=hours_answer(self.clock), clock=self.clock)).events
