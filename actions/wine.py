"""ask_wine: notes, prices, pairings and recommendations from knowledge/wine/.

Remembers the wine under discussion (slot `wine`) so that a follow-up such as
"how much is it?" is answered about that wine.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import dont_know_reply, latest_entities, latest_text, with_link
from actions.knowledge.service import INTENT_DEFAULT_QUESTIONS, get_service
from actions.settings import get_settings
from actions.wine_catalog import Wine, find_wine, load_wines, match_wines

# Words that point back at the wine just discussed.
_REFERS_BACK = re.compile(r"\b(it|its|it's|that|this|that one|this one|them|they)\b", re.I)


def resolve_wine(tracker: Tracker, text: str, wines: tuple[Wine, ...]) -> tuple[Optional[Wine], list[Wine], bool]:
    """(wine, ambiguous candidates, from_context)."""
    for name in latest_entities(tracker, "wine"):
        wine = find_wine(name, wines)
        if wine:
            return wine, [], False
    candidates = match_wines(text, wines)
    if len(candidates) == 1:
        return candidates[0], [], False
    if len(candidates) > 1:
        return None, candidates, False
    remembered = tracker.get_slot("wine")
    if remembered and _REFERS_BACK.search(text):
        return find_wine(remembered, wines), [], True
    return None, [], False


class ActionAnswerWine(Action):
    def name(self) -> Text:
        return "action_answer_wine"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        text = latest_text(tracker)
        wines = load_wines(get_settings().knowledge_dir)
        wine, candidates, _ = resolve_wine(tracker, text, wines)
        if candidates:
            dispatcher.utter_message(
                text="We make a few wines by that name. Which one do you mean?",
                buttons=[{"title": w.title, "payload": f'/ask_wine{{"wine": "{w.title}"}}'} for w in candidates[:5]],
            )
            return []
        question = text or INTENT_DEFAULT_QUESTIONS["ask_wine"]
        answer = await get_service().answer(
            question, "ask_wine", prefer_source=wine.source if wine else None, context=wine.title if wine else ""
        )
        dispatcher.utter_message(text=with_link(answer.text, answer.url) if answer.found else dont_know_reply())
        return [SlotSet("wine", wine.title)] if wine else []
