"""ask_wine: prices, vintages, stock and buying from live Commerce7 data;
comparisons, filters and recommendations from the catalog rows and their
attributes; notes and stories from knowledge/.

The subject ("how much is it?", "the farmhouse one") is resolved by
actions/turns.py from the subject slots, which this action also sets.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.turns import respond


class ActionAnswerWine(Action):
    def name(self) -> Text:
        return "action_answer_wine"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        return (await respond(dispatcher, tracker)).events
