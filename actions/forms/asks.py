"""`action_ask_<form>_<slot>`: how each form asks for each slot, from actions/replies.yml.

One small action per slot (Rasa finds them by name); the text is the reply
`ask_<form>_<slot>`, or `ask_<slot>` when both forms ask alike.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import replies, say

ASKED = {
    "club_signup_form": ["club_tier", "first_name", "last_name", "email", "phone", "birth_date", "delivery_method",
                         "ship_street", "ship_city", "ship_state", "ship_zip", "confirm_stop"],
    "subscribe_form": ["email", "first_name", "confirm_stop"],
    "feedback_form": ["rating", "feedback_comment", "confirm_stop"],
}


class AskSlot(Action, ABC):
    """Abstract: rasa-sdk registers only the concrete per-slot subclasses below."""

    @property
    @abstractmethod
    def form(self) -> str: ...

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> Text:
        return f"action_ask_{self.form}_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        key = f"ask_{self.form}_{self.slot}"
        say(dispatcher, key if key in replies() else f"ask_{self.slot}")
        return []


def ask_action_names() -> list[str]:
    return [f"action_ask_{form}_{slot}" for form, slots in ASKED.items() for slot in slots]


# rasa-sdk registers every concrete Action subclass, so one class per slot is made
# here (and kept referenced: subclasses are only weakly known to their base).
ASK_ACTIONS = [type(f"Ask_{form}_{slot}", (AskSlot,), {"form": form, "slot": slot})
               for form, slots in ASKED.items() for slot in slots]
