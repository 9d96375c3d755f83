"""One turn of a conversation about things with a name: which subject the
customer means (named now, referred back to, corrected) and the structured
answer about it, computed from the live catalog and the structured files.

`plan_turn` reads the turn, the `answer_*` functions answer it. The actions
(actions/wine.py, actions/knowledge_answers.py, actions/hours.py) call these
and fall back to the knowledge answer when the turn is not about a subject.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional, Sequence

from actions import offerings
from actions.answering.lookup import said_list
from core import business_hours
from core.texts import Said, render
from actions.cards import store_page
from actions.recommend import read_wish, recommend, why
from actions.subject import (CHEAP_BUDGET, KINDS, Subject, asks_what_it_is, aspect_of, is_correction, names_a_day, refers_back,
                             state_name, states_in)
from actions.wine_catalog import Wine, WineRow, find_wine, match_wines

# Intents a follow-up about each kind of subject may be classified as.
COMPATIBLE = {
    "wine": {"ask_wine", "ask_shipping", "nlu_fallback", "ask_about", "ask_club", "ask_tastings", "ask_loyalty"},
    "tier": {"ask_club", "ask_wine", "ask_shipping", "ask_loyalty", "nlu_fallback"},
    "experience": {"ask_tastings", "ask_reservation", "ask_wine", "nlu_fallback", "ask_events"},
    "space": {"ask_events", "ask_reservation", "ask_wine", "nlu_fallback", "ask_tastings"},
    "date": {"ask_hours", "ask_reservation", "nlu_fallback", "ask_wine", "ask_events", "ask_tastings"},
    "state": {"ask_shipping", "ask_club", "ask_wine", "nlu_fallback"},
}
# Aspects only one kind has: a short follow-up asking one ("buy link?", "in stock?") is about the
# subject of that kind, whatever intent NLU gave it.
ONLY_ASKED_OF = {"wine": ("buy", "stock", "vintage")}
# The kind of subject each question intent is about, when a message names things of several kinds.
KIND_OF_INTENT = {"ask_shipping": "state", "ask_club": "tier", "join_club": "tier", "ask_tastings": "experience",
                  "ask_events": "space", "ask_hours": "date"}
# Questions about the house rules (pets, children, outside food): a space, tasting or wine they
# mention is where or what the rule is about, never the subject whose facts answer them.
HOUSE_RULE_INTENTS = frozenset({"ask_visit_policies"})
TYPE_WORD = {"red": "red", "white": "white", "rose": "rosé", "sparkling": "sparkling wine"}
TYPE_PLURAL = {"red": "reds", "white": "whites", "rose": "rosés", "sparkling": "sparkling wines"}
_DISTINCT = re.compile(r"[a-z]+")
_GENERIC_WORDS = {"the", "one", "a", "an", "i", "meant", "mean", "sorry", "no", "not", "that", "actually", "what",
                  "about", "how", "and", "wine", "bottle", "please", "pls", "ok", "oh", "my", "bad", "instead",
                  "rather", "is", "it", "of", "to", "for", "on", "which", "price", "much", "cost", "u", "you",
                  "your", "do", "have", "any", "some", "me", "tell", "more", "this", "them", "abt", "wat", "like",
                  "oops", "said", "other", "can", "buy", "online", "order", "get", "in", "stock",
                  # words of titles that visitors also say of the place ("the one with Sang's Vineyard fruit")
                  "vineyard", "vineyards", "estate", "hudson", "valley", "fruit", "grapes",
                  "red", "reds", "white", "whites"}   # a type is a value to choose by, not a name
# A booking question that names a day asks the hours only when it asks about time ("can 12 of us
# come on Saturday?" asks the group policy, not Saturday's hours).
_ASKS_TIME = re.compile(r"\b(open|opens|close|closes|closed|hours|what time|til|till|until|how late|too late|"
                        r"too early|last seating|last call|last (drink|pour|order|glass|tasting)|reopen|re-open|"
                        r"(last|latest) (time|we can|i can|you can)|latest)\b", re.I)
# a grape spoken of as planted, not as one of our wines
_IN_THE_VINEYARD = re.compile(r"\b(acres?|acreage|planted|plantings?|vines|rows|soil|dirt|grow|grows|growing)\b|"
                              r"\b(of|in) (the|your|ur) (vineyard|estate)\b", re.I)


def speaks_of_the_vineyard(text: str) -> bool:
    return bool(_IN_THE_VINEYARD.search(text))


# the estate's buildings and past ("the old farmhouse looks ancient, when was it built?"): not a wine
# named Farmhouse
_OF_THE_BUILDINGS = re.compile(r"\b(built|ancient|historic|history|dates? back|how old is (the|that|this) "
                               r"(house|farmhouse|building|barn|place))\b", re.I)


def speaks_of_the_buildings(text: str) -> bool:
    return bool(_OF_THE_BUILDINGS.search(text))


# "can we come by monday around 2?": a visit on a day asks whether we are open then
_THAT = re.compile(r"\b(that|this|it)\b", re.I)
_COME_BY = re.compile(r"\b(come by|come in|come up|stop by|stop in|swing by|drop by|drop in|visit|pop in|"
                      r"stop for|stopping (by|in|for)|on the way|on our way|swing through|"
                      r"around \d|at \d)\b", re.I)
# "do you make a Pinot Noir? my wife loves pinot": whether we make it is asked before what is like it.
ASKS_IF_WE_MAKE = re.compile(r"\b(do|does|did)\s+(you|u|ya|yall|y'all|milea)\s+(guys\s+)?"
                              r"(have|make|carry|sell|got|do|grow)\b|\bis there an?\b", re.I)
def asks_time(text: str) -> bool:
    """Whether a message asks about opening times ("what time do you open", "until when")."""
    return bool(_ASKS_TIME.search(text))


NOT_CARRIED = ("pinot noir", "merlot", "riesling", "malbec", "cabernet sauvignon", "syrah", "zinfandel",
               "sauvignon blanc", "pinot grigio", "moscato", "port")
# the colour of each: a blend of ours that holds one is offered only if it is that colour (the pinot noir
# in a sparkling wine is no answer to "a pinot noir?")
NOT_CARRIED_TYPE = {"pinot noir": "red", "merlot": "red", "malbec": "red", "cabernet sauvignon": "red", "syrah": "red",
                    "zinfandel": "red", "riesling": "white", "sauvignon blanc": "white", "pinot grigio": "white",
                    "moscato": "white"}


def asks_for_a_grape_we_lack(text: str) -> bool:
    """Whether the message asks if we make a wine we do not ("Do you make a Riesling too?"), whatever
    story comes before the question, or asks about one as if we did ("how much is your riesling?")."""
    return any(re.search(rf"\b{g}s?\b", text, re.I) for g in NOT_CARRIED) and bool(ASKS_IF_WE_MAKE.search(text)) or \
        any(re.search(rf"\b(your|ur)\s+{g}\b", text, re.I) for g in NOT_CARRIED) or \
        len(text.split()) <= 5 and not _TASTE_FOR.search(text) and \
        any(re.search(rf"^\W*(\w+\W+)?(what about|how about|and|any|or)\s+(a |an |some )?{g}s?\W*$", text, re.I)
            for g in NOT_CARRIED)   # "ok what about riesling": asked after another wine, still one we lack


_TASTE_FOR = re.compile(r"\b(like|likes|love|loves|into|fan|drinks?)\b", re.I)


@dataclass
class Turn:
    """What this turn is about, once resolved."""
    kind: str = ""                    # one of subject.KINDS, "" when not about a named subject
    names: list = field(default_factory=list)   # the subjects meant (titles, tier names, codes, date text)
    aspect: str = ""
    follow_up: bool = False
    ambiguous: list = field(default_factory=list)   # candidates to ask about
    clarify: bool = False             # a follow-up with nothing to refer to
    options: list = field(default_factory=list)     # what a later "which one" chooses from


@dataclass
class Reply:
    """A structured answer: its texts, buttons, the rows it used (for cards) and what it talked about."""
    texts: list = field(default_factory=list)
    buttons: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    slots: dict = field(default_factory=dict)

    def say(self, key: str, channel: Optional[str], **values) -> "Reply":
        self.texts.append(Said.of(key, channel, **values))   # sent by name (actions/texts.py)
        return self


def _words(text: str) -> set:
    return set(_DISTINCT.findall(text.casefold())) - _GENERIC_WORDS


def partial_wines(text: str, wines: Sequence[Wine], previous: Optional[str]) -> list[Wine]:
    """Wines a partial name points at ("the farmhouse one"), narrowed to the previous wine's kind."""
    words = _words(text)
    if not words:
        return []
    found = [w for w in wines if words & set(_DISTINCT.findall(w.title.casefold()))]
    if previous and len(found) > 1:
        prev_words = set(_DISTINCT.findall(previous.casefold()))
        same_kind = [w for w in found if w.title != previous
                     and (prev_words - {"farmhouse", "reserve", "hvv", "right", "bank"})
                     & set(_DISTINCT.findall(w.title.casefold()))]
        if same_kind:
            found = same_kind
    return [w for w in found if w.title != previous] or found


def named_wines(text: str, entity_values: list[str], wines: Sequence[Wine], intent: str) -> tuple[list[Wine], list[Wine]]:
    """(wines the turn names, ambiguous candidates)."""
    named: list[Wine] = []
    for value in entity_values:
        wine = find_wine(value, tuple(wines))
        if wine and wine not in named:
            named.append(wine)
    if named:
        return named, []
    candidates = match_wines(text, tuple(wines))
    if not candidates:
        return [], []
    low = text.casefold()
    exact = [w for w in candidates if w.title.casefold() in low]
    if len(candidates) == 1 or exact:
        return (exact or candidates), []
    return [], candidates


def _names_fully(text: str, entity_values: list[str], wines: Sequence[Wine]) -> bool:
    """Whether each wine was named by its full title (or an entity resolved to it), not a partial word."""
    titles = {v.casefold() for v in entity_values}
    low = text.casefold()
    return bool(wines) and all(w.title.casefold() in titles or w.title.casefold() in low for w in wines)



def _fullest_named(text: str, kinds: list[str], named: dict) -> list[str]:
    """Of kinds named by the same words, the one whose name the message says more of: "the heritage
    seyval" is the wine, though "heritage" alone would be the Heritage Flight."""
    said = _words(text)
    matched = {k: set().union(*(_words(n) & said for n in named[k])) for k in kinds}
    return [k for k in kinds if not any(o != k and matched[k] < matched[o] for o in kinds)]

_SHIPPING = re.compile(r"\b(ship|ships|shipping|shipped|send|sends|sent|deliver|delivers|delivery|mail|"
                       r"get (it|wine|bottles?) (to|in)|order (from|to)|live in|living in|moved to)\b", re.I)

def question_part(text: str) -> str:
    """The clauses with a question mark ("..., how long do you hold the table?"), else the message."""
    asked = [part for part in re.split(r"(?<=[.!?;,])\s+", text) if "?" in part]
    return " ".join(asked) if asked else text


def question_sentences(text: str) -> str:
    """The sentences with a question mark, whole ("which tier is the cheapest, and what's off?"),
    else the message."""
    asked = [part for part in re.split(r"(?<=[.!?])\s+", text) if "?" in part]
    return " ".join(asked) if asked else text


def _bare_day(text: str) -> bool:
    """"and sunday?", "what about the saturday after that": a day and little else."""
    words = len(text.split())
    return words <= 4 or words <= 7 and bool(re.match(r"\W*((ok|okay|so|hmm|shoot|bummer|then)\W+)*"
                                                       r"(and|or|what about|how about|wbu|same for)\b", text, re.I))


def plan_turn(text: str, intent: str, entities: dict, before: Subject, wines: Sequence[Wine],
              knowledge_dir: Path) -> Turn:
    """Which subject the turn is about, and what is asked about it."""
    # "I'd like to buy a bottle in his memory. What is your Reserve Cabernet Franc like?": the question asks
    asked = question_part(text)
    aspect = aspect_of(asked if "?" in text else text)
    short = len(text.split()) <= 4
    follow_up = refers_back(text) or (short and bool(aspect))
    correction = is_correction(text)
    if intent in HOUSE_RULE_INTENTS:
        # "can I bring my dog to the patio?": the patio is where, the house rule is what is asked;
        # the space's facts (seats, how to book it) would answer another question.
        return Turn("", [], aspect, follow_up)
    # 1. subjects the customer names now; "is that one a red?" asks the subject's type, it names no red
    about_itself = asks_what_it_is(text) and bool(read_wish(text).types)
    wines_now, ambiguous = named_wines(text, entities.get("wine", []), wines, intent)
    listed = [w for w in ambiguous if w.title in before.options]
    if len(listed) == 1 and before.kind == "wine":
        wines_now, ambiguous = listed, []   # "the reserve" among the two cab francs just listed
    if ambiguous and intent not in COMPATIBLE["wine"] - {"ask_about", "ask_club", "ask_tastings", "ask_loyalty"}:
        ambiguous = []   # "the cab from the station", "how much of the vineyard is cab franc": not our wines
    if ambiguous and speaks_of_the_vineyard(text):
        ambiguous = []   # "how many acres of the cab franc?", "what else is planted?": the grape in the ground
    wish = read_wish(text)
    if (wish.like or wish.gift) and not _names_fully(text, entities.get("wine", []), wines_now):
        wines_now, ambiguous = [], []   # "a gift for a Chardonnay lover" names a grape, not our wine
    if before.wine and (correction or follow_up) and (wines_now or ambiguous) \
            and not _names_fully(text, entities.get("wine", []), wines_now):
        partial = partial_wines(text, wines, before.wine)   # "I meant the farmhouse one": within the wine's kind
        if len(partial) == 1:
            wines_now, ambiguous = partial, []
    if not wines_now and len(before.options) > 1 and before.kind == "wine" and (follow_up or correction or short) \
            and not about_itself:
        among = [w for w in wines if w.title in before.options]
        picked = [w for w in among if _words(text) & set(_DISTINCT.findall(w.title.casefold()))]
        if len(picked) == 1:   # "the reserve one" after "which cab franc?"
            wines_now, ambiguous = picked, []
    tiers_now = offerings.mentioned(text, offerings.tiers(knowledge_dir))
    for value in entities.get("club_tier", []):
        tier = offerings.find(knowledge_dir, "tier", value)
        if tier and tier not in tiers_now:
            tiers_now.append(tier)
    exps_now = offerings.mentioned(text, offerings.experiences(knowledge_dir))
    spaces_now = offerings.mentioned(text, offerings.spaces(knowledge_dir))
    # a state counts where shipping is talked about: "NY reds against California" and "driving up from
    # Jersey" name states that are not where a bottle goes
    states_now = states_in(text, entities.get("us_state", [])) \
        if intent == "ask_shipping" or before.kind == "state" or _SHIPPING.search(text) else []
    day_now = names_a_day(text, entities.get("date_phrase", []) + entities.get("weekday", []))
    named = {"wine": [w.title for w in wines_now], "tier": [t.name for t in tiers_now],
             "experience": [e.name for e in exps_now], "space": [s.name for s in spaces_now],
             "state": states_now}
    kinds_named = [k for k, v in named.items() if v]
    if not day_now and before.kind == "date" and before.date and intent in ("ask_hours", "nlu_fallback") \
            and _REOPEN.search(text) and not _MONTH.search(text):
        return Turn("date", [before.date], "hours", True)   # "when do you reopen?" after a closed day
    # "...stop for a tasting on the way around jan 10th, does that work?": the question points at the plan
    plan = text if len(asked.split()) <= 5 and _THAT.search(asked) else asked
    if day_now and (intent == "ask_hours" or (intent in ("ask_reservation", "ask_visit_policies", "ask_tastings")
                                               and (_ASKS_TIME.search(plan) or _COME_BY.search(plan)))
                    # a day in a message about something else ("we booked for sat, how long do you hold
                    # the table?") is when, not what is asked: the day's hours need time words or a bare day
                    or (before.kind == "date" or intent == "nlu_fallback") and not kinds_named
                    and (_ASKS_TIME.search(asked) or _bare_day(asked) or "?" not in text)
                    # "can i swing by monday afternoon": coming on a day asks that day's hours, whatever NLU said
                    or (_COME_BY.search(asked) and not kinds_named and intent not in HOUSE_RULE_INTENTS)):
        return Turn("date", [text], "hours", follow_up)
    if not day_now and not kinds_named and before.date and before.kind in ("date", "") \
            and intent in ("ask_hours", "nlu_fallback", "ask_tastings", "ask_reservation") and _ASKS_TIME.search(asked):
        return Turn("date", [before.date], "hours", True)   # "is 5 too late to start?" of the day said before
    if not day_now and not kinds_named and intent in ("ask_hours", "nlu_fallback", "out_of_scope") \
            and business_hours.asks_about_closures(text):
        return Turn("date", [text], "hours", follow_up)
    if ambiguous and not kinds_named:
        plural = (re.search(r"\b(both|all|each|chardonnays|francs|roses|rosés|blends|sparklings|ones|wines|have|got|any|"
                            r"list|make|sell|carry|options)\b", text, re.I) or ASKS_IF_WE_MAKE.search(text)) \
            and aspect not in ("price", "stock", "vintage", "buy")
        # "price of the rose" when we make two: both prices, a question would make them ask twice
        each = aspect in ("price", "vintage", "stock") and len(ambiguous) <= 3
        if aspect not in ("cheaper", "dearer", "difference", "best", "more") and not plural and not each \
                and len(ambiguous) > 1:
            return Turn("wine", [], aspect, follow_up, ambiguous=ambiguous)
        named["wine"] = [w.title for w in ambiguous]
        kinds_named = ["wine"]
        aspect = aspect or "difference"
    if len(kinds_named) > 1 and "wine" in kinds_named and intent != "ask_wine" \
            and not _names_fully(text, entities.get("wine", []), wines_now):
        kinds_named.remove("wine")  # "Grand Prix" or "Heritage Flight" also match wine words loosely
    if len(kinds_named) == 1:
        kind = kinds_named[0]
        if not aspect and (follow_up or correction or short or re.match(r"^\s*(and|what about|how about)", text, re.I)) \
                and before.kind in (kind, ""):
            aspect = before.aspect
        previous = before.current(kind)
        options = [previous, *named[kind]] if previous and (follow_up or correction) and previous not in named[kind] else []
        return Turn(kind, named[kind], aspect, follow_up, options=options)
    own = KIND_OF_INTENT.get(intent)
    if len(kinds_named) > 1 and own in kinds_named and aspect not in ("difference", "cheaper", "dearer", "best", "more"):
        # "ship to Florida? my dad loved the brut": the state (things of two kinds are still never compared)
        return Turn(own, named[own], aspect, follow_up)
    if len(kinds_named) > 1:
        kinds_named = _fullest_named(text, kinds_named, named)
    if len(kinds_named) == 1:
        kind = kinds_named[0]
        return Turn(kind, named[kind], aspect, follow_up)
    if len(kinds_named) > 1:
        return Turn("mixed", [n for k in kinds_named for n in named[k]], aspect, follow_up)
    # 2. a correction or partial name within the previous kind ("the farmhouse one")
    if before.kind == "wine" and (correction or follow_up) and intent in COMPATIBLE["wine"] and not about_itself:
        partial = partial_wines(text, wines, before.wine)
        if len(partial) == 1:
            return Turn("wine", [partial[0].title], aspect or before.aspect, True,
                        options=[before.wine, partial[0].title])
    # 3. a follow-up about the previous subject
    previous_kind = before.kind if before.kind in KINDS else ""
    if previous_kind == "date" and intent != "ask_hours" and not _ASKS_TIME.search(text):
        previous_kind = ""   # "and if we have to cancel?" after a day's hours asks the booking rule, not the day
    if previous_kind and (follow_up or correction or aspect in ("cheaper", "dearer", "more", "discount", "bottles")) \
            and (intent in COMPATIBLE[previous_kind] or short and aspect in ONLY_ASKED_OF.get(previous_kind, ())):
        if previous_kind == "wine" and aspect in ("pairing", "best") and not follow_up:
            return Turn("", [], aspect)  # "what goes with steak?" is a new question, not about the last wine
        if previous_kind == "wine" and read_wish(text).types and aspect in ("", "cheaper", "dearer", "best") \
                and not about_itself:
            return Turn("", [], aspect)  # "what about a white?", "cheapest white?" start a new search
        if previous_kind == "state" and aspect not in ("", "buy"):
            return Turn("", [], aspect)  # "how much is shipping?" after a state: not the state's answer
        if previous_kind == "wine" and aspect == "cheaper" and len(before.options) < 2 and before.wine:
            return Turn("wine", [before.wine], "cheaper_than", True)   # "something similar but cheaper?"
        if previous_kind == "wine" and len(before.options) > 1 and before.aspect in ("list", "difference") \
                and aspect not in ("cheaper", "dearer", "more", "best", "difference"):
            listed = [w for w in wines if w.title in before.options]
            return Turn("wine", [], aspect, True, ambiguous=listed)   # "what goes with it?" after a list: which?
        names = before.options if aspect in ("cheaper", "dearer", "more", "discount", "best", "difference") \
            and len(before.options) > 1 else [before.current(previous_kind)]
        names = [n for n in names if n]
        if names:
            return Turn(previous_kind, names, aspect or before.aspect, True)
    if follow_up and aspect in ("price", "stock", "vintage", "buy") and intent in ("ask_wine", "nlu_fallback") \
            and re.search(r"\b(it|that|this|that one|this one|them)\b", text, re.I) and not before.kind:
        return Turn("", [], aspect, True, clarify=True)
    return Turn("", [], aspect, follow_up)


# ---------------------------------------------------------------- answers

def _stock_sentence(row: WineRow) -> str:
    if row.in_stock is None:
        return ""
    return render("utter_wine_stock_note_in" if row.in_stock else "utter_wine_stock_note_out")


def _alternative(rows: Sequence[WineRow], like: Optional[WineRow], channel: Optional[str]) -> str:
    pool = [r for r in rows if r.in_stock is not False and (like is None or r.title != like.title)]
    same = [r for r in pool if like is not None and r.type == like.type]
    pick = (same or pool)[:1]
    return render("utter_wine_similar_in_stock", channel, label=pick[0].label, price=pick[0].price_text) if pick else ""


def answer_wines(turn: Turn, rows: Sequence[WineRow], channel: Optional[str], store_products: str,
                 member: Optional[tuple[str, str]] = None) -> Optional[Reply]:
    """Structured answer about named wines; None when it needs prose (tasting notes, stories)."""
    by_title = {r.title: r for r in rows}
    chosen = [by_title[n] for n in turn.names if n in by_title]
    reply = Reply()
    missing = [n for n in turn.names if n not in by_title]
    if not chosen:
        if missing:
            reply.say("utter_wine_gone", channel, title=missing[0], alternative=_alternative(rows, None, channel))
            reply.slots = {"subject_kind": "wine", "wine": None}
            return reply
        return None
    reply.rows = chosen
    aspect = turn.aspect
    if len(chosen) > 1:
        if aspect in ("cheaper", "dearer", "best", "more"):
            return _pick_wine(chosen, aspect, channel, reply, among="two")
        # the grapes, when they tell the wines apart ("Chardonnay and Pinot Noir" beside a Blanc de Blanc)
        grapes_differ = len({r.grapes for r in chosen}) > 1
        lines = " ".join(render("utter_wine_compare_line", channel, label=r.label, style=r.style, body=r.body,
                                type_word=TYPE_WORD.get(r.type, r.type), price=r.price_text,
                                grapes=render("utter_wine_made_from", channel,
                                              grapes=said_list([g.title() for g in r.grapes]))
                                if grapes_differ and r.grapes else "",
                                notes=render("utter_wine_notes", channel, notes=", ".join(r.notes[:3]))
                                if r.notes else "")
                         for r in chosen)
        cheaper = sorted(chosen, key=lambda r: r.price or 0)
        verdict = (render("utter_wine_compare_cheaper", channel, title=cheaper[0].title) if len(chosen) == 2
                   and cheaper[0].price != cheaper[1].price else "")
        reply.say("utter_wine_compare", channel, lines=lines, verdict=verdict)
        reply.slots = {"subject_kind": "wine", "subject_options": [r.title for r in chosen], "subject_aspect": "difference"}
        return reply
    row = chosen[0]
    values = dict(label=row.label, title=row.title, price=row.price_text, vintage=row.vintage,
                  stock=_stock_sentence(row))
    slots = {"subject_kind": "wine", "wine": row.title, "subject_aspect": aspect}
    if aspect == "buy":
        if row.in_stock is False:
            reply.say("utter_wine_buy_sold_out", channel, alternative=_alternative(rows, row, channel), **values)
        else:
            url = store_page(store_products, row.slug)
            member_text = render("utter_wine_buy_member", channel, tier=member[0], discount=member[1]) if member else ""
            reply.say("utter_wine_buy", channel, url=url, member=member_text, **values)
            reply.buttons = [{"title": render("utter_wine_buy_button", channel, title=row.title), "url": url,
                              "type": "web_url"}]
    elif aspect == "vintage":
        reply.say("utter_wine_vintage" if row.vintage else "utter_wine_nv", channel, **values)
    elif aspect == "stock":
        if row.in_stock is True:
            reply.say("utter_wine_stock_yes", channel, **values)
        elif row.in_stock is False:
            reply.say("utter_wine_stock_no", channel, alternative=_alternative(rows, row, channel), **values)
        else:
            reply.say("utter_wine_price", channel, **values)
    elif aspect == "cheaper_than":
        cheaper = sorted((r for r in rows if r.type == row.type and r.price is not None and row.price is not None
                          and r.price < row.price and r.in_stock is not False),
                         key=lambda r: (not set(r.grapes) & set(row.grapes), -(r.price or 0)))   # same grape first
        if cheaper:
            pick = cheaper[0]
            reply.say("utter_wine_cheaper_alternative", channel, label=pick.label, price=pick.price_text,
                      type_word=TYPE_WORD.get(pick.type, pick.type), than=row.title, than_price=row.price_text)
            reply.rows = [pick]
            slots = {"subject_kind": "wine", "wine": pick.title, "subject_aspect": "price",
                     "subject_options": [row.title, pick.title]}
        else:
            reply.say("utter_wine_cheapest_of_type", channel, label=row.label, price=row.price_text,
                      type_word=TYPE_WORD.get(row.type, row.type))
    elif aspect in ("price", "cheaper", "dearer", "difference", "discount"):
        reply.say("utter_wine_price", channel, **values)
    elif aspect == "pairing" and row.pairs_with:
        foods = ", ".join(row.pairs_with[:3])
        reply.say("utter_wine_pairing", channel, foods=foods, foods_cap=foods[:1].upper() + foods[1:], style=row.style,
                  type_word=TYPE_WORD.get(row.type, row.type), body=row.body, **values)
    else:
        return Reply(rows=[row], slots=slots)  # prose about the wine: the caller asks the knowledge base
    reply.slots = slots
    return reply


def _pick_wine(rows: Sequence[WineRow], aspect: str, channel: Optional[str], reply: Reply, among: str) -> Reply:
    priced = [r for r in rows if r.price is not None]
    if aspect == "best":
        rated = sorted((r for r in rows if r.rating_points), key=lambda r: -(r.rating_points or 0))
        if rated:
            r = rated[0]
            reply.say("utter_wine_best_rated", channel, what="wine" if among == "two" else among, label=r.label,
                      points=r.rating_points, by=r.rating_by, price=r.price_text)
            reply.rows = [r]
            reply.slots = {"subject_kind": "wine", "wine": r.title, "subject_aspect": "best"}
            return reply
        aspect = "dearer"
    ordered = sorted(priced, key=lambda r: (r.price, r.title), reverse=aspect in ("dearer",))
    if not ordered:
        return reply
    best = ordered[0]
    ties = [r for r in ordered[1:] if r.price == best.price]
    # the wording of the pick lives in domain.yml: one response per direction, for two wines or a group
    if aspect == "dearer":
        response = "utter_wine_pick_dearer_of_two" if among == "two" else "utter_wine_pick_dearest"
    else:
        response = "utter_wine_pick_cheaper_of_two" if among == "two" else "utter_wine_pick_cheapest"
    also = render("utter_wine_same_price", channel, label=ties[0].label) if ties else ""
    reply.say(response, channel, among=among, label=best.label, price=best.price_text, also=also)
    reply.rows = [best]
    reply.slots = {"subject_kind": "wine", "wine": best.title, "subject_aspect": "price",
                   "subject_options": [r.title for r in rows]}
    return reply


_COUNT = re.compile(r"\bhow many\b.*\b(wines?|reds?|whites?|roses?|rosés?|sparkling|bottles you make|kinds?)\b", re.I)
_OPTIONS = re.compile(r"\b(options|choices|what (do|have) (you|u) got|which ones|what are (my|the|our) \w+)\b", re.I)
_LIST = re.compile(r"\b(what|which|list|got|have|any|anything|something|show)\b", re.I)
_SUPER_CHEAP = re.compile(rf"\b(cheapest|least expensive|most affordable|lowest price|{CHEAP_BUDGET}|inexpensive|cheap)\b",
                          re.I)
_SUPER_DEAR = re.compile(r"\b(most expensive|priciest|fanciest|top of the line|splurge|dearest|highest price[d]?|"
                         r"(the )?most (you|u) (charge|ask|sell)|top price)\b", re.I)
_DROPPED_BUDGET = re.compile(r"\b(forget|never ?mind|ignore|screw|scratch|no|forget about) (the|my|a|our) budget\b", re.I)
# a score asked outright: the best rated, whatever gift or dinner it is for ("best" alone is a taste)
_RATED_BEST = re.compile(r"\b(best rated|best-rated|highest rated|top rated|top-rated|highest scor\w*|most points|"
                         r"best reviewed|(big|high|good|great|top) (score|rating|review)s?|critics?|accolades?|"
                         r"scored|scores)\b", re.I)
_SUPER_BEST = re.compile(r"\b(best|best rated|highest rated|top rated|rating|rated|points|award|acclaimed|favou?rite|popular)\b", re.I)


def searches_the_catalog(text: str) -> bool:
    """Whether a message asks a superlative or a count of our wines, whatever intent NLU gave it
    ("what's your cheapest wine?" read as a question about the winery)."""
    return bool(re.search(r"\b(wines?|bottles?|reds?|whites?|roses?|rosés?|sparkling)\b", text, re.I)) and bool(
        _SUPER_CHEAP.search(text) or _SUPER_DEAR.search(text) or _COUNT.search(text))


def answer_wine_search(text: str, rows: Sequence[WineRow], channel: Optional[str]) -> Optional[Reply]:
    """Filters, superlatives, counts and recommendations over the whole catalog;
    None when the question is not one of these (the knowledge base answers it)."""
    if not rows:
        return None
    low = text.casefold()
    wish = read_wish(text)
    reply = Reply()
    for grape in NOT_CARRIED:
        if re.search(rf"\b{grape}s?\b", low) and (grape not in wish.like or ASKS_IF_WE_MAKE.search(low)):
            blends = [r for r in rows if grape in r.grapes and len(r.grapes) > 1
                      and r.type == NOT_CARRIED_TYPE.get(grape)]
            if blends:   # "a Merlot?": not on its own, and the blend that holds it
                alt = blends[:1]
                alternative = render("utter_wine_grape_in_blend", channel, grape=grape.title(), label=alt[0].label,
                                     price=alt[0].price_text)
            else:
                alt = recommend(rows, read_wish(f"something like {grape}"), k=1)
                alternative = (render("utter_wine_grape_alternative", channel, grape=grape.title(), label=alt[0].label,
                                      price=alt[0].price_text) if alt else "")
            reply.say("utter_wine_not_carried", channel, grape=grape.title(), alternative=alternative)
            reply.rows = alt
            # what a later "what's the closest thing then?" or "tell me about that one" is about
            reply.slots = {"subject_kind": "wine", "wine": alt[0].title, "subject_aspect": "alternative"} if alt else {}
            return reply
    if wish.style == "sweet" and not wish.foods:
        fruity = sorted((r for r in rows if r.type == "rose" and r.notes), key=lambda r: r.price or 0)[:1]
        if fruity:
            r = fruity[0]
            reply.say("utter_wine_no_sweet", channel, label=r.label, price=r.price_text, notes=", ".join(r.notes[:3]))
            reply.rows = [r]
            reply.slots = {"subject_kind": "wine", "wine": r.title}
            return reply
    pool = [r for r in rows if _passes(r, wish)]
    what = " and ".join(TYPE_PLURAL[t] for t in sorted(wish.types)) if wish.types else "wines"
    if wish.style == "dry" and wish.types:
        what = "dry " + what
    if _SUPER_CHEAP.search(low) or _SUPER_DEAR.search(low) or _RATED_BEST.search(low) or (
            _SUPER_BEST.search(low) and not wish.foods and not wish.like and not wish.gift):
        # "ok forget the budget, what's your priciest red": the priciest, the budget is what was dropped
        aspect = "dearer" if _SUPER_DEAR.search(low) and not _SUPER_CHEAP.search(_DROPPED_BUDGET.sub(" ", low)) \
            else "cheaper" if _SUPER_CHEAP.search(low) else "dearer" if _SUPER_DEAR.search(low) else "best"
        if not pool:
            return _none(reply, what, rows, channel, wish)
        among = (TYPE_WORD.get(next(iter(wish.types)), "wine") if len(wish.types) == 1 else "wine")
        _pick_wine(pool, aspect, channel, reply, among=among)
        reply.slots["subject_options"] = [r.title for r in pool]
        return reply
    if _COUNT.search(low):
        reply.say("utter_wine_count", channel, count=len(pool), what=what,
                  items=", ".join(f"{r.label} ({r.price_text})" for r in pool))
        reply.rows = pool
        reply.slots = {"subject_kind": "wine", "subject_options": [r.title for r in pool], "subject_aspect": "list"}
        return reply
    # "she only drinks white, $35 or less, what are my options?": all of the few that fit, not two picks
    lists_all = bool(_OPTIONS.search(low)) and (bool(wish.types) or wish.max_price is not None) and len(pool) <= 5
    if not lists_all and (wish.foods or wish.like or wish.gift or wish.occasion
                          or re.search(r"\b(recommend|suggest|should i get|pick(?! (it |them |my |our |\w+ )?up))\b", low)):
        picks = recommend(rows, wish, k=2)
        if not picks:
            return _none(reply, what, rows, channel, wish)
        first = picks[0]
        occasion = (f"{wish.foods[0]}" if wish.foods else f"a {wish.like[0].title()} lover" if wish.like
                    else "a gift" if wish.gift else wish.occasion or "you")
        second = render("utter_wine_recommend_second", channel, label=picks[1].label, price=picks[1].price_text) \
            if len(picks) > 1 else ""
        reply.say("utter_wine_recommend", channel, occasion=occasion, label=first.label, price=first.price_text,
                  style=first.style, type_word=TYPE_WORD.get(first.type, first.type), why=why(first, wish),
                  second=second)
        reply.rows = picks
        reply.slots = {"subject_kind": "wine", "wine": first.title, "subject_options": [r.title for r in picks],
                       "subject_aspect": "recommend"}
        return reply
    if not wish.empty and _LIST.search(low) or (wish.types and len(low.split()) <= 5) or wish.max_price or lists_all:
        if not pool:
            return _none(reply, what, rows, channel, wish)
        ceiling = (f" under ${wish.max_price:g}" if wish.below_only else f" at ${wish.max_price:g} or less") \
            if wish.max_price else ""
        intro = f"Our {what}" + ceiling + \
                (" in stock" if wish.in_stock else "")
        reply.say("utter_wine_list", channel, intro=intro, items=", ".join(f"the {r.label} ({r.price_text})" for r in pool))
        reply.rows = pool
        reply.slots = {"subject_kind": "wine", "subject_options": [r.title for r in pool], "subject_aspect": "list",
                       "wine": pool[0].title if len(pool) == 1 else None}
        return reply
    return None


def _passes(row: WineRow, wish) -> bool:
    from actions.recommend import matches
    return matches(row, wish)


def _none(reply: Reply, what: str, rows: Sequence[WineRow], channel: Optional[str], wish) -> Reply:
    """Nothing passes: said so, with the nearest thing we have (the least expensive of the kind asked
    for, when a price limit left none of it: "reds for $30 or less" gets the $32 red)."""
    of_kind = [r for r in rows if r.price is not None and (not wish.types or r.type in wish.types)]
    cheapest = sorted(of_kind or [r for r in rows if r.price is not None], key=lambda r: r.price)[:1]
    if cheapest and of_kind and wish.types and wish.max_price is not None:
        alternative = render("utter_wine_least_expensive_of_type", channel, label=cheapest[0].label,
                             price=cheapest[0].price_text, type_word=TYPE_WORD.get(cheapest[0].type, cheapest[0].type))
    else:
        alternative = (render("utter_wine_cheapest_alternative", channel, label=cheapest[0].label,
                              price=cheapest[0].price_text) if cheapest else "")
    reply.say("utter_wine_none", channel, what=f"any {what} like that", alternative=alternative)
    return reply


# ---- tiers, tastings, spaces, states, days, rewards

def tier_lines(knowledge_dir: Path, channel: Optional[str]) -> str:
    """Every tier in one line each ("Jumper: 4 bottles per shipment, from $104 ..."), for choosing one."""
    return ". ".join(_tier_line(t, channel) for t in offerings.tiers(knowledge_dir)) + "."


def _tier_line(t: offerings.Offering, channel: Optional[str]) -> str:
    f = t.facts
    return render("utter_tier_line", channel, name=t.name, bottles=f["bottles"], price=f["price_from"],
                  discount=f["discount_text"])


def answer_tiers(turn: Turn, knowledge_dir: Path, channel: Optional[str]) -> Reply:
    all_tiers = offerings.tiers(knowledge_dir)
    chosen = [t for t in all_tiers if t.name in turn.names] or all_tiers
    reply = Reply(rows=[t.facts for t in chosen])
    aspect = turn.aspect
    if aspect in ("cheaper", "dearer", "more", "discount", "bottles") and \
            (len(chosen) > 1 or (turn.follow_up and aspect != "bottles")):
        pool = chosen if len(chosen) > 1 else all_tiers
        by_price = lambda t: render("utter_tier_detail_price", channel, price=t.facts["price_from"],  # noqa: E731
                                    bottles=t.facts["bottles"])
        by_bottles = lambda t: render("utter_tier_detail_bottles", channel, price=t.facts["price_from"],  # noqa: E731
                                      bottles=t.facts["bottles"])
        key, what, detail = {
            "cheaper": (lambda t: t.facts["price_from"], "least expensive" if len(pool) > 2 else "less expensive",
                        by_price),
            "dearer": (lambda t: -t.facts["price_from"], "most expensive" if len(pool) > 2 else "more expensive",
                       by_price),
            "more": (lambda t: -t.facts["bottles"], "one with the most bottles", by_bottles),
            "bottles": (lambda t: -t.facts["bottles"], "one with the most bottles", by_bottles),
            "discount": (lambda t: (-t.facts["wine_discount"], t.facts["price_from"]), "one with the biggest discount",
                         lambda t: t.facts["discount_text"]),
        }[aspect]
        best = sorted(pool, key=key)[0]
        text = render("utter_tier_pick", channel, what=what, name=best.name, detail=detail(best))
        if aspect == "discount":
            same = [t.name for t in pool if t is not best and t.facts["wine_discount"] == best.facts["wine_discount"]]
            if same:
                text += render("utter_tier_same_discount", channel, names=" and ".join(same),
                               discount=best.facts["wine_discount"])
        reply.texts.append(text + render("utter_tier_join_hint", channel, name=best.name))
        reply.rows = [best.facts]
        reply.slots = {"subject_kind": "tier", "subject_tier": best.name, "club_tier": best.name,
                       "subject_options": [t.name for t in pool], "subject_aspect": aspect}
        return reply
    if len(chosen) == 1:
        t = chosen[0]
        extras = render("utter_tier_extras", channel, extras=t.facts["extras"]) if t.facts.get("extras") else ""
        reply.say("utter_tier_facts", channel, name=t.name, bottles=t.facts["bottles"], price=t.facts["price_from"],
                  discount=t.facts["discount_text"], extras=extras)
        reply.slots = {"subject_kind": "tier", "subject_tier": t.name, "club_tier": t.name, "subject_aspect": aspect}
        return reply
    lines = ". ".join(_tier_line(t, channel) for t in chosen) + "."
    cheapest = min(chosen, key=lambda t: t.facts["price_from"])
    verdict = render("utter_tier_cheapest_of_two" if len(chosen) == 2 else "utter_tier_cheapest", channel,
                     name=cheapest.name)
    reply.say("utter_tier_compare", channel, lines=lines, verdict=verdict)
    reply.slots = {"subject_kind": "tier", "subject_options": [t.name for t in chosen], "subject_aspect": "difference",
                   "subject_tier": None}
    return reply


def answer_experiences(turn: Turn, knowledge_dir: Path, channel: Optional[str],
                       live_prices: Optional[dict] = None) -> Reply:
    items = offerings.experiences(knowledge_dir)
    chosen = [e for e in items if e.name in turn.names] or [e for e in items if e.facts.get("standalone", True)]
    price = lambda e: (live_prices or {}).get(e.name.casefold(), e.facts["price"])
    reply = Reply(rows=[e.facts for e in chosen])
    if turn.aspect in ("cheaper", "dearer") or len(chosen) > 1:
        pool = chosen
        best = sorted(pool, key=lambda e: price(e) * (-1 if turn.aspect == "dearer" else 1))[0]
        if turn.aspect in ("cheaper", "dearer"):
            what = ("least expensive" if turn.aspect == "cheaper" else "most expensive") + \
                   (" option" if len(pool) > 2 else " of the two")
            reply.say("utter_experience_pick", channel, what=what, name=best.name, price=f"{price(best):g}")
            reply.slots = {"subject_kind": "experience", "subject_experience": best.name, "subject_aspect": turn.aspect,
                           "subject_options": [e.name for e in pool]}
            return reply
        lines = " ".join(render("utter_experience_line", channel, name=e.name, price=f"{price(e):g}",
                                duration=f", {e.facts['duration']}" if e.facts.get("duration") else "")
                         for e in pool)
        reply.say("utter_experience_compare", channel, lines=lines, verdict="")
        reply.slots = {"subject_kind": "experience", "subject_options": [e.name for e in pool], "subject_aspect": "difference"}
        return reply
    e = chosen[0]
    note = e.facts.get("price_note") or render("utter_experience_price", channel, price=f"{price(e):g}")
    reply.say("utter_experience_facts", channel, name=e.name, price_note=note,
              duration=render("utter_experience_lasts", channel, duration=e.facts["duration"])
              if e.facts.get("duration") else "",
              includes=render("utter_experience_includes", channel, includes=e.facts["includes"])
              if e.facts.get("includes") else "")
    reply.slots = {"subject_kind": "experience", "subject_experience": e.name, "subject_aspect": turn.aspect}
    return reply


def answer_spaces(turn: Turn, knowledge_dir: Path, channel: Optional[str], events_email: str) -> Reply:
    items = offerings.spaces(knowledge_dir)
    chosen = [s for s in items if s.name in turn.names] or items
    reply = Reply(rows=[s.facts for s in chosen])
    for s in chosen:
        standing = (render("utter_space_standing", channel, standing=s.facts["standing"])
                    if s.facts.get("standing") and s.facts["standing"] != s.facts["seated"] else "")
        reply.say("utter_space_facts", channel, name=s.name, seated=s.facts["seated"], standing=standing)
    # one sentence per space, then once how to book
    reply.texts = [" ".join(reply.texts) + render("utter_space_private_event", channel, email=events_email)]
    reply.slots = {"subject_kind": "space", "subject_space": chosen[0].name if len(chosen) == 1 else None,
                   "subject_options": [s.name for s in chosen], "subject_aspect": "capacity"}
    return reply


def answer_states(turn: Turn, knowledge_dir: Path, channel: Optional[str]) -> Reply:
    allowed = offerings.ships_to(knowledge_dir)
    reply = Reply()
    for code in turn.names:
        if code in allowed:
            reply.say("utter_state_ships", channel, state=state_name(code))
        else:
            reply.say("utter_state_no_ship", channel, state=state_name(code),
                      states=", ".join(state_name(c) for c in allowed))
    reply.slots = {"subject_kind": "state", "subject_state": turn.names[-1], "subject_aspect": "shipping"}
    return reply


_REOPEN = re.compile(r"\b(reopen|re-open|open (again|back)|back open|closed|shut)\b", re.I)
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.I)
_DAY_OF_MONTH = re.compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b", re.I)


def answer_day(text: str, entities: list[str], schedule, now: datetime, previous: str = "") -> Reply:
    """Hours on the day asked; "and the 26th?" takes its month from the day asked before."""
    day = _DAY_OF_MONTH.search(text)
    month = _MONTH.search(previous or "")
    if day and not _MONTH.search(text) and month:
        text = f"{month.group(0)} {day.group(1)}"
    if previous and not entities and not names_a_day(text, []) and _REOPEN.search(text) and not _MONTH.search(text):
        text = previous   # "bummer. when do you reopen?" asks about the day asked before
    reply = Reply(texts=[business_hours.hours_reply(schedule, now, text, entities)])
    reply.slots = {"subject_kind": "date", "subject_date": business_hours.day_said(text, entities, schedule, now) or text,
                   "subject_aspect": "hours"}
    return reply


_BUYS = re.compile(r"\b(buy|buying|purchase|for sale|sell|sold|in cash|with money|pay for)\b", re.I)
_REWARD_Q = re.compile(r"\b(how many|how much|need|redeem|free|get with|worth|what can i get|enough)\b", re.I)
_REWARD_WORDS = {"hat": "hat", "wine key": "wine key", "opener": "wine key", "corkscrew": "wine key",
                 "case": "case", "tour": "tour", "tasting": "tour", "dinner": "dinner", "night": "night",
                 "staatsburg": "night", "house": "night", "stay": "night"}


def answer_reward(text: str, knowledge_dir: Path, channel: Optional[str], follow_up: bool = False) -> Optional[Reply]:
    """"How many points for a free hat?" ("and for a case?" right after) from knowledge/loyalty/rewards.yml."""
    if not _REWARD_Q.search(text) and not (follow_up and len(text.split()) <= 6) or _BUYS.search(text):
        return None   # "how much is the hat if I just buy it?": the shop's price, not points
    low = text.casefold()
    table = sorted(offerings.rewards(knowledge_dir), key=lambda r: r["points"])
    m = re.search(r"\b(\d[\d,]*)\s*(points|miles|pts)\b", low)
    if m:
        have = int(m.group(1).replace(",", ""))
        reachable = [r for r in table if r["points"] <= have]
        if reachable:
            r = reachable[-1]
            return Reply(texts=[Said.of("utter_reward_points", channel, points=f"{r['points']:,}", reward=r["reward"],
                                       next=render("utter_reward_best_you_can", channel, points=f"{have:,}"))])
    for word, key in _REWARD_WORDS.items():
        if re.search(rf"\b{word}s?\b", low):
            for r in table:
                if key in r["reward"].casefold():
                    return Reply(texts=[Said.of("utter_reward_points", channel, points=f"{r['points']:,}",
                                               reward=r["reward"], next="")],
                                 slots={"subject_topic": "ask_loyalty"})
    return None
