"""Whether a message NLU called off-topic is about the winery after all: out_of_scope only when
nothing in it is. In-domain content wins: a thing of the fact model named ("is the Reserve
Chardonnay oaked? I had a buttery one in Napa"), an attribute of the subject being talked about
("how's the finish on it?"), or the winery's own words beside a runner-up intent of the winery."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from actions.answering.attributes import lexical
from actions.answering.facts import INTENT_OF_KIND, Facts
from actions.answering.interpret import KIND_OF_SLOT_KIND, mentioned
from actions.answering.party import head_count
from actions.converse import ASKS_IF_WE_MAKE
from actions.subject import Subject

RUNNER_UP_MIN = 0.15   # the confidence a winery intent must still have for the winery's words to decide
# a short message that carries the talk on ("and at 5k?", "what about the other one?")
_CARRIES_ON = re.compile(r"^\s*(and|what about|how about|and what about|ok and)\b", re.I)
_WINERY_WORDS = re.compile(
    r"\b(wines?|winery|vineyards?|milea|tastings?|flights?|bottles?|vintage|club|members?|reservations?|"
    r"book|open|closed|hours|visit|visiting|dogs?|kids|children|wedding|events?|party|miles|points|rewards?|"
    r"grapes?|pour|sommelier|cellar|estate|staatsburg|patio|clubhouse|ship|shipping|table|res|tock|booking|"
    r"booked|tasting room)\b", re.I)


def winery_intent(text: str, ranking: Sequence[dict], before: Subject, facts: Facts,
                  wine_titles_named: Sequence[str] = ()) -> Optional[str]:
    """The intent to answer an 'off-topic' message as, or None when it really is off-topic.

    Args: text: the customer's words; ranking: Rasa's intent ranking; before: the subject so far;
        facts: this turn's fact model; wine_titles_named: catalog wines the message names.
    Returns: an intent of the winery, or None.
    """
    if wine_titles_named:
        return "ask_wine"
    for kind in ("tier", "experience", "space", "reward", "merch", "menu", "lodging"):
        if mentioned(text, facts.of(kind)):
            return INTENT_OF_KIND[kind]
    if _CARRIES_ON.match(text) and len(text.split()) <= 8:   # "and at 5k?": the topic talked about
        topic = INTENT_OF_KIND.get(before.kind or "") if before.kind in KIND_OF_SLOT_KIND else \
            "ask_shipping" if before.kind == "state" else "ask_hours" if before.kind == "date" else before.topic
        if topic:
            return topic
    if head_count(text):
        return "ask_reservation"   # "what if it ends up being like 20 ppl" after a group plan
    if ASKS_IF_WE_MAKE.search(text):
        return "ask_wine"   # "we lived on Napa cabernet. do you make anything Bordeaux-style?"
    kind = before.kind if before.kind in KIND_OF_SLOT_KIND else ""
    if kind and lexical(text, list(facts.attributes.get(kind, {}).values())):
        return INTENT_OF_KIND[kind]
    if _WINERY_WORDS.search(text):
        for entry in ranking or []:
            name, confidence = entry.get("name"), float(entry.get("confidence") or 0)
            if name and name not in ("out_of_scope", "nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny",
                                     "bot_challenge") and confidence >= RUNNER_UP_MIN:
                return name
    return None
