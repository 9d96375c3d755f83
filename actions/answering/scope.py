"""Whether a message NLU called off-topic is about the winery after all: out_of_scope only when
nothing in it is. In-domain content wins: a thing of the fact model named ("is the Reserve
Chardonnay oaked? I had a buttery one in Napa"), an attribute of the subject being talked about
("how's the finish on it?"), or the winery's own words beside a runner-up intent of the winery."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from actions.answering.attributes import lexical
from actions.answering.facts import INTENT_OF_KIND, Facts
from actions.answering.interpret import KIND_OF_SLOT_KIND, WINE_NOUN, mentioned
from actions.answering.party import head_count
from actions.converse import ASKS_IF_WE_MAKE, question_sentences
from actions.subject import Subject, names_a_day

RUNNER_UP_MIN = 0.15   # the confidence a winery intent must still have for the winery's words to decide
# a short message that carries the talk on ("and at 5k?", "what about the other one?")
_CARRIES_ON = re.compile(r"^\s*(and|what about|how about|and what about|ok and)\b", re.I)
_POINTS_BACK = re.compile(r"\b(them|those|these|that one|this one|the other one|both)\b", re.I)
# a visit's rules asked through what visitors bring or need: food, a pet, a child, a wheelchair
_VISIT_RULES = re.compile(r"\b(bring|brings|bringing)\b.*\b(cake|food|snacks?|picnic|lunch|sandwich(es)?|pizza|meals?|"
                          r"dogs?|pups?|kids?|baby|"
                          r"stroller|wine|bottles?|cooler)\b|\b(is there|do you (have|serve|sell)|can we (get|order)|should we)\b.*"
                          r"\b(food|eat|lunch|snacks?|menu)\b|"
                          r"\b(wheelchair|stroller|leash|leashed)\b", re.I)
# "can we pack a picnic and eat it on the grounds?": what a visit allows, unless it asks which wine to bring
# ("we'll just pack them sandwiches then": a plan to bring food asks the same rule)
_MAY_WE_BRING = re.compile(r"\b(can|could|may|allowed to|ok(ay)? to|alright to|fine to|we'?ll|we will|i'?ll|i will|"
                           r"gonna|going to|plan(ning)? to|thinking of|thinking about)\b.{0,25}\b(bring|pack|carry in)\b"
                           r".{0,30}\b(food|snacks?|picnic|lunch|sandwich(es)?|pizza|meals?|cake|cupcakes|cooler|basket|"
                           r"cheese|charcuterie|drinks?|beer|our own|my own)\b", re.I)
_WHICH_WINE = re.compile(r"\b(what|which)\b.*\b(wines?|bottles?|reds?|whites?|ros[eé]s?)\b", re.I)


def asks_to_bring(text: str) -> bool:
    """Whether the message asks if something may be brought along (a visit policy)."""
    return bool(_MAY_WE_BRING.search(text)) and not _WHICH_WINE.search(text)


_FOOD = re.compile(r"\b(food|foods|eat|eats|eating|hungry|starving|snacks?|bites?|menu|lunch|meals?|nibbles|"
                   r"charcuterie|cheese (board|plate)|lobster)\b", re.I)
_WINE_WORDS = re.compile(r"\b(wines?|bottles?|reds?|whites?|ros[eé]s?|sparkling|bubbly|vino|pair|pairs|pairing|"
                         r"with|drink|drinking|sip|serve|serving|pour)\b", re.I)


# what an unsure message must say to be answered with bottles: a wine word or a request for a pick ("for our
# anniversary, anything private?" asks for the private tour, not a sparkling)
_WINE_ASKED = re.compile(r"\b(wines?|bottles?|reds?|whites?|ros[eé]s?|sparkling|bubbly|champagne|vino|recommend|"
                         r"suggest|pair|pairs|pairing|go with|goes with)\b", re.I)


def club_not_wine(text: str) -> str:
    """The message with "wine club" said as "club": a wine club membership is no wine."""
    return re.sub(r"\bwine club\b", "club", text, flags=re.I)


def asks_about_food(text: str) -> bool:
    """Whether the message asks about the food served ("any food under 35 bucks?"), not a wine for a dish."""
    return bool(_FOOD.search(text)) and not _WINE_WORDS.search(club_not_wine(text))


def asks_for_wine(text: str) -> bool:
    """Whether an unsure message asks for bottles at all."""
    return bool(_WINE_ASKED.search(club_not_wine(text)))


_COMES = re.compile(r"\b(come|coming|stop|swing|drop|pop|visit|head|get) (by|in|up|over|there)?\b|\bvisit\b", re.I)
_OPEN_WORDS = re.compile(r"\b(open|opened|opening|closed|close|closing|hours)\b", re.I)
_BOOK_WORDS = re.compile(r"\b(book|booking|reserve|reservation|rez|res)\b", re.I)
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
    asked_of = kind_asked_of(question_sentences(text), facts.attributes)
    if asked_of:   # "...we've done Bordeaux and Rioja. What's the least expensive bottle you sell?"
        return INTENT_OF_KIND[asked_of]
    if _CARRIES_ON.match(text) and len(text.split()) <= 8:   # "and at 5k?": the topic talked about
        topic = INTENT_OF_KIND.get(before.kind or "") if before.kind in KIND_OF_SLOT_KIND else \
            "ask_shipping" if before.kind == "state" else "ask_hours" if before.kind == "date" else before.topic
        if topic:
            return topic
    if head_count(text):
        return "ask_reservation"   # "what if it ends up being like 20 ppl" after a group plan
    if ASKS_IF_WE_MAKE.search(text):
        return "ask_wine"   # "we lived on Napa cabernet. do you make anything Bordeaux-style?"
    if _VISIT_RULES.search(text):
        return "ask_visit_policies"   # "can we bring a cake from the bakery", "should we eat before coming?"
    if names_a_day(text, []) and (_COMES.search(text) or _OPEN_WORDS.search(text)):
        return "ask_hours"   # "can we come by monday around 2?", "the winery is open today?"
    if names_a_day(text, []) and _BOOK_WORDS.search(text):
        return "ask_reservation"   # "for tomorrow I must book before?"
    kind = before.kind if before.kind in KIND_OF_SLOT_KIND else ""
    if kind and lexical(text, list(facts.attributes.get(kind, {}).values())):
        return INTENT_OF_KIND[kind]
    if kind and _POINTS_BACK.search(text) and len(text.split()) <= 10:
        return INTENT_OF_KIND[kind]   # "ok whats the difference between them" after the two roses
    if _WINERY_WORDS.search(text):
        for entry in ranking or []:
            name, confidence = entry.get("name"), float(entry.get("confidence") or 0)
            if name and name not in ("out_of_scope", "nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny",
                                     "bot_challenge") and confidence >= RUNNER_UP_MIN:
                return name
    return None


_WINE_ITSELF = re.compile(r"\b(wines?|reds?|whites?|ros[eé]s?|bubbly|sparkling)\b", re.I)
# The nouns that say which kind of thing a question is about.
_KIND_NOUN = {"wine": WINE_NOUN,
              "experience": re.compile(r"\b(tastings?|flights?|tours?)\b", re.I),
              "tier": re.compile(r"\b(tiers?|memberships?|membership levels?|club levels?|club options)\b", re.I),
              "reward": re.compile(r"\brewards?\b", re.I)}


def kind_asked_of(asked: str, attributes: dict, question_mark: bool = True) -> str:
    """The kind a question names by its noun and asks an attribute of ("what's the least expensive
    bottle you sell?", "we wanna do a tasting, whats the cheapest option"), when it names one kind
    only; else ''. `attributes`: the fact schema, by kind."""
    plain = club_not_wine(asked)
    kinds = [k for k, noun in _KIND_NOUN.items() if noun.search(plain)]
    if len(kinds) > 1 and "wine" in kinds and not _WINE_ITSELF.search(plain):
        kinds.remove("wine")   # "which tier is cheapest and what's off bottle prices?": bottles of a tier
    if len(kinds) != 1 or question_mark and "?" not in asked:
        return ""
    return kinds[0] if lexical(asked, list(attributes.get(kinds[0], {}).values())) else ""
