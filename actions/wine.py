"""ask_wine: prices, vintages and stock from live Commerce7 data; notes, pairings
and recommendations from knowledge/.

Remembers the wine under discussion (slot `wine`) so that a follow-up such as
"how much is it?" is answered about that wine.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cards import show_wine_cards
from actions.commerce7.catalog import available_products, find_product, in_stock
from actions.commerce7.models import Product
from actions.commerce7.sync import price_text
from actions.common import contact_line, dont_know_reply, latest_entities, latest_text, with_link
from actions.knowledge.service import INTENT_DEFAULT_QUESTIONS, get_service
from actions.settings import get_settings
from actions.wine_catalog import Wine, find_wine, load_wines, match_wines

# Words that point back at the wine just discussed.
_REFERS_BACK = re.compile(r"\b(it|its|it's|that|this|that one|this one|them|they)\b", re.I)
_ASKS_PRICE = re.compile(r"\b(how much|price|prices|priced|cost|costs|\$|expensive|cheap)\b", re.I)
_ASKS_VINTAGE = re.compile(r"\b(vintage|year)\b", re.I)
_ASKS_STOCK = re.compile(r"\b(in stock|stock|available|availability|sold out|left|buy|order|get some)\b", re.I)


def resolve_wine(tracker: Tracker, text: str, wines: tuple[Wine, ...]) -> tuple[Optional[Wine], list[Wine]]:
    """(the wine meant, or the candidates when the name fits several)."""
    for name in latest_entities(tracker, "wine"):
        wine = find_wine(name, wines)
        if wine:
            return wine, []
    candidates = match_wines(text, wines)
    if len(candidates) == 1:
        return candidates[0], []
    if candidates:
        return None, candidates
    remembered = tracker.get_slot("wine")
    if remembered and (_REFERS_BACK.search(text) or not text):
        return find_wine(remembered, wines), []
    return None, []


def live_facts(product: Product, text: str) -> str:
    """Price, vintage and stock of one product, as the customer asked."""
    label = f"{product.vintage} {product.title}" if product.vintage else f"{product.title} (non-vintage)"
    parts = []
    if _ASKS_VINTAGE.search(text) and not _ASKS_PRICE.search(text):
        parts.append(f"The {product.title} we currently sell is the {product.vintage} vintage."
                     if product.vintage else f"The {product.title} is a non-vintage wine.")
    else:
        parts.append(f"The {label} is {price_text(product)} a bottle.")
    stock = in_stock(product)
    if stock is True:
        parts.append("It's in stock.")
    elif stock is False:
        parts.append("It's sold out at the moment.")
    return " ".join(parts)


class ActionAnswerWine(Action):
    def name(self) -> Text:
        return "action_answer_wine"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        text = latest_text(tracker)
        products = await available_products()
        wine_titles = tuple(p.title for p in products or [] if p.type == "Wine")
        wines = load_wines(get_settings().knowledge_dir, wine_titles)
        wine, candidates = resolve_wine(tracker, text, wines)
        if candidates:
            dispatcher.utter_message(
                text="We make a few wines by that name. Which one do you mean?",
                buttons=[{"title": w.title, "payload": f'/ask_wine{{"wine": "{w.title}"}}'} for w in candidates[:5]],
            )
            show_wine_cards(dispatcher, (find_product(products or [], w.title) for w in candidates[:5]))
            return []
        product = find_product(products, wine.title) if wine and products else None
        live_question = bool(_ASKS_PRICE.search(text) or _ASKS_VINTAGE.search(text) or _ASKS_STOCK.search(text))
        if wine and live_question:
            if product is None:
                dispatcher.utter_message(
                    text=f"I can't check the current price and stock of the {wine.title} right now. "
                         f"Please try again shortly, or {contact_line()}.")
            else:
                dispatcher.utter_message(text=live_facts(product, text))
                show_wine_cards(dispatcher, [product])
            return [SlotSet("wine", wine.title)]
        question = text or (f"tell me about the {wine.title}" if wine else INTENT_DEFAULT_QUESTIONS["ask_wine"])
        answer = await get_service().answer(
            question, "ask_wine", prefer_source=wine.sources if wine else (), context=wine.title if wine else "")
        if not answer.found:
            dispatcher.utter_message(text=dont_know_reply())
            return []
        reply = answer.text
        if product is not None and "$" not in reply:
            reply += f" {live_facts(product, 'price')}"
        dispatcher.utter_message(text=with_link(reply, answer.url))
        show_wine_cards(dispatcher, [product])
        return [SlotSet("wine", wine.title)] if wine else []
