"""ask_wine: prices, vintages, stock and buying from live Commerce7 data;
comparisons, filters and recommendations from the catalog rows and their
attributes; notes and stories from knowledge/.

The subject ("how much is it?", "the farmhouse one") is resolved by
actions/responder.py from the subject slots, which this action also sets.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.cards import show_wine_cards
from actions.commerce7.catalog import available_products, find_product
from actions.responder import respond


class ActionAnswerWine(Action):
    def name(self) -> Text:
        return "action_answer_wine"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        outcome = await respond(dispatcher, tracker)
        titles = [row.title for row in outcome.rows if hasattr(row, "title")]  # wines (tier rows are dicts)
        if titles:  # the wines the answer named, as cards (a carousel for several; a line with a link on SMS)
            products = await available_products() or []
            show_wine_cards(dispatcher, (find_product(products, title) for title in titles))
        return outcome.events
