"""Requests whose own flows are not built yet (feedback, talking to a person):
an honest answer with how to reach the team."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import contact_line, latest_intent

REPLIES = {
    "give_feedback": ("We'd love to hear how we did! Please share your thoughts with our team: {contact}.", "general"),
    "human_handoff": ("Of course. To talk to someone from our team, {contact}.", "general"),
}


class ActionContactStaff(Action):
    def name(self) -> Text:
        return "action_contact_staff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        template, email_key = REPLIES.get(latest_intent(tracker), REPLIES["human_handoff"])
        dispatcher.utter_message(text=template.format(contact=contact_line(email_key)))
        return []
