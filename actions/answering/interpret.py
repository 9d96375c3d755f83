"""The turn plan over the fact model: (subject or set from context) + (attribute) + (operation).

It runs on top of Rasa's intent and entities and of the subject resolution of actions/converse.py
(`plan_turn`, which finds the things a message names and the coarse aspects it already answers:
price, stock, buying, vintage, pairing, comparisons and catalog searches). A plan is made only
where it adds what that path cannot do:
- choose one thing of a set by a superlative or a value ("the cheaper one", "the unoaked one",
  "which of those got the best rating", "the 12 bottle one"), then say what is asked of it;
- look up any other attribute of the subject ("what's its finish?", "how many miles per dollar
  does Grand Prix earn?", "how long is the tour?"), from the structured value or the thing's prose.
Otherwise `interpret` returns None and the turn goes on as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from actions.answering.attributes import Asked, phrase_pattern, asked, lexical
from actions.answering.choose import FRAME_WORDS, choose, names_a_place, narrowed, plain, unspent
from actions.answering.facts import INTENT_OF_KIND, Attribute, Facts, Thing
from actions.common import without_accents
from actions.answering.lookup import by_passage
from actions.answering.totals import bottles_asked
from actions.converse import ASKS_IF_WE_MAKE, COMPATIBLE
from actions.recommend import read_wish, within_price
from actions.knowledge.text import clauses, tokens
from actions.subject import Subject, asks_what_it_is, aspect_of, is_correction, refers_back

# Attributes the subject answers of actions/converse.py already say well (with stock, links, cards).
ANSWERED_BEFORE = {"wine": {"price", "in_stock", "vintage", "pairs_with"}, "tier": {"price_from"},
                   "experience": {"price"}, "space": {"seated", "standing"}}
# Intents a question about each kind may be classified as (out_of_scope: NLU missed the subject).
INTENTS_OF_KIND = {
    "wine": {"ask_wine", "ask_about", "nlu_fallback", "out_of_scope", "ask_club", "ask_tastings", "ask_shipping"},
    "tier": {"ask_club", "join_club", "ask_loyalty", "ask_wine", "nlu_fallback", "out_of_scope", "check_points"},
    "experience": {"ask_tastings", "ask_reservation", "ask_wine", "nlu_fallback", "out_of_scope", "ask_hours"},
    "space": {"ask_events", "ask_reservation", "nlu_fallback", "out_of_scope"},
    "reward": {"ask_loyalty", "check_points", "nlu_fallback", "out_of_scope", "ask_wine", "ask_tastings", "ask_club"},
    "merch": {"ask_wine", "nlu_fallback", "out_of_scope", "ask_loyalty"},
    "menu": {"ask_wine", "ask_visit_policies", "ask_tastings", "ask_reservation", "nlu_fallback", "out_of_scope",
             "ask_about", "ask_events"},
    "lodging": {"ask_about", "ask_location", "ask_reservation", "ask_events", "ask_visit_policies", "nlu_fallback",
                "out_of_scope", "ask_club"},
}
# The subject path's aspects that are attributes of the fact model under another name.
ASPECT_ATTRIBUTE = {"stock": "in_stock", "pairing": "pairs_with", "bottles": "bottles", "capacity": "seated"}
for _kind, _intents in COMPATIBLE.items():   # wherever the subject path follows a kind up, so does the plan
    INTENTS_OF_KIND.get(_kind, set()).update(_intents)
# The aspects of the subject path's answer for a kind (a space's answer is its capacity): any other
# aspect asked of it is not that answer's to give.
SUBJECT_ASPECTS = {"space": {"", "capacity"}}
# Kinds whose things the subject path describes whole when named; a question about one that no
# attribute names ("can I quit the Jumper after two shipments?") is the knowledge's.
DESCRIBED_KINDS = frozenset({"tier", "experience", "space"})
# The nouns that name a kind ("the top tier", "which flight").
KIND_NOUNS = {"tier": ("tier", "tiers", "level", "levels", "membership level"),
              "experience": ("flight", "flights"), "space": ("venue", "room", "space"),
              "reward": ("reward", "rewards")}
MINOR_KINDS = frozenset({"reward", "merch", "menu", "lodging"})
KIND_OF_SLOT_KIND = {"wine": "wine", "tier": "tier", "experience": "experience", "space": "space"}
KIND_OF_INTENT = {intent: kind for kind, intent in INTENT_OF_KIND.items() if kind not in ("merch", "menu", "lodging")}
WINE_NOUN = re.compile(r"\b(wines?|bottles?|reds?|whites?|ros[eé]s?|bubbly|sparkling)\b", re.I)
_SEVERAL = re.compile(r"\b(which (ones|of (those|them|these))|ones|any of (those|them))\b", re.I)
# Words a follow-up carries besides what it asks ("and", "that one", "again", "please").
_FILLER = frozenset("""one ones other again also then pls thx thank yes yeah ok okay hmm cool great nice sure
    wait really actually still""".split())
_SINGULAR = re.compile(r"\b(it|its|it's|that|this)\b", re.I)
_BRINGS_OWN = re.compile(r"\b(bring|brings|bringing|brought|pack|packing|carry in)\b.*\b(own|our|my)\b|\bour own\b", re.I)
_OTHER = re.compile(r"\b(the other|other one|the other one)\b", re.I)
_WHAT_IT_GIVES = re.compile(r"\bwhat (do|does|would|will|did) (you|i|we|u|members?|one|they) (get|receive)\b|"
                            r"\bwhat('s| is| are) (included|in it)\b|\bwhat comes with\b", re.I)
# points spent on a thing: the reward that is it ("how many points to cash in for a tour and tasting?")
_REDEEMS = re.compile(r"\b(points|miles|pts)\b.*\b(cash in|cash out|redeem|trade|spend|use|for)\b|"
                      r"\b(cash in|redeem|trade in|spend|use) (my |our )?(points|miles|pts)\b", re.I)
# a thing of a set pointed at by what it has ("the one with the cheese", "the one from the old vines")
_BY_WHAT_IT_HAS = re.compile(r"\b(one|ones|tasting|flight|tier|level|wine|bottle)s? (with|from|that|which|made|aged|"
                             r"grown|where|using|including)\b", re.I)
_CARRIES_ON = re.compile(r"^\W*((ok|okay|and|so|hmm)\W+)*(what about|how about|and for|same for|and the)\b", re.I)
_JOINED = re.compile(r"\b(and|also|plus)\b|[,;&+]")
_DESCRIPTOR = re.compile(r"\b(one|ones|level|tier|which|whichever|of (those|them|these))\b", re.I)
# "what exactly is the Winners Circle?": what a value itself is, asked of the knowledge
_WHAT_IS = re.compile(r"\bwhat(?:'s| is| exactly is|s| are| exactly are)\s+(?:the |a |an |this |that )?(.+?)\s*\??\s*$",
                      re.I)


@dataclass
class Plan:
    kind: str
    things: list[Thing]
    attribute: Optional[Attribute] = None     # what is asked of the things (None: who they are)
    chosen_by: Optional[Asked] = None         # how one thing was chosen from a set
    chose: bool = False
    options: list[str] = field(default_factory=list)   # the set it was chosen from
    unknown: bool = False     # asks something of the subject that no attribute says: the knowledge answers
    also: Optional[Attribute] = None   # a second attribute asked in the same message ("what's in it and how long")
    describe: bool = False   # all that the one thing chosen is ("the twelve-bottle tier: what would I get?")


def mentioned(text: str, things: Sequence[Thing]) -> list[Thing]:
    """The things whose name or alias stands in the text (a plural counts), in the text's order."""
    low = plain(text)
    hits = []
    for thing in things:
        spans = [m.start() for n in thing.names() if (m := _name_pattern(n).search(low))]
        if spans:
            hits.append((min(spans), thing))
    return [t for _, t in sorted(hits, key=lambda h: h[0])]


def _name_pattern(name: str):
    return phrase_pattern(plain(name).strip())


def _without_names(text: str, things: Sequence[Thing]) -> str:
    """The text with the things' names taken out, so a name ("BDX Blend") is not read as a question;
    its punctuation kept (the clause that asks is read from it)."""
    low = without_accents(text or "").casefold().replace("&", " and ").replace("’", "'")
    for thing in things:
        for name in thing.names():
            low = _name_pattern(name).sub(" ", low)
    return low


def _named(turn, text: str, intent: str, before: Subject, facts: Facts) -> tuple[str, list[Thing]]:
    """The kind and the things the message names now (in a talk about Milea Miles, rewards first:
    "the tour & tasting one" is then the reward, not the tasting)."""
    loyalty = before.topic == "ask_loyalty" or intent in ("ask_loyalty", "check_points") or bool(_REDEEMS.search(text))
    # a minor thing named by its own name ("the wine openers", "a cheese board") is what is asked
    # about, whatever else the conversation was on and whatever intent NLU gave
    pairing = aspect_of(text) == "pairing" or bool(read_wish(text).foods and re.search(r"\b(wines?|bottles?)\b", text, re.I))
    named_minor = []
    for kind in ("reward", "merch", "menu", "lodging") if loyalty else ("merch", "menu", "lodging"):
        if kind == "menu" and (pairing or _BRINGS_OWN.search(text)):
            continue   # "what wine goes with the lobster roll?" asks a wine; "our own cheese board", the rules
        found = mentioned(text, facts.of(kind))
        if found:
            named_minor.append((kind, _longest_names(found, text)))
    if named_minor and before.options and _BY_WHAT_IT_HAS.search(text):
        named_minor = []   # "the one with the cheese and charcuterie" among the tastings listed: which of them
    if named_minor:   # the hat to buy or the hat for points: the kind whose attribute is asked
        asked_of = [(k, t) for k, t in named_minor if lexical(text, list(facts.attributes.get(k, {}).values()))]
        return (asked_of or named_minor)[0]
    if turn.kind in KIND_OF_SLOT_KIND and turn.names:
        return turn.kind, facts.among(turn.kind, turn.names)
    return "", []


def _attribute_of_a_value(text: str, things: Sequence[Thing], attributes: Sequence[Attribute]) -> Optional[Attribute]:
    """The text attribute one of whose values (of any thing of the kind) the message says, when one
    attribute alone has it ("red": the type; "dry": the style)."""
    words = set(plain(text).split())
    having = [a for a in attributes if a.format == "text" and any(
        isinstance(t.value(a), str) and 0 < len(plain(t.value(a)).split()) <= 2 and
        set(plain(t.value(a)).split()) <= words for t in things)]
    return having[0] if len(having) == 1 else None


def _longest_names(things: list[Thing], text: str) -> list[Thing]:
    """Of things named inside each other's names, the one named in full."""
    low = plain(text)
    lengths = {t.name: max(len(plain(n).strip()) for n in t.names() if _name_pattern(n).search(low)) for t in things}
    best = max(lengths.values())
    return [t for t in things if lengths[t.name] == best]


def interpret(text: str, intent: str, turn, before: Subject, facts: Facts, embedder=None) -> Optional[Plan]:
    """The plan for this turn when the fact model adds to the subject path, else None.

    Args: text: the customer's words; intent: Rasa's intent; turn: converse.plan_turn's reading;
        before: the subject before this turn; facts: this turn's fact model; embedder: for meaning.
    Returns: the things, the attribute asked and how a thing was chosen; None to go on as before.
    """
    if not text or turn.kind == "mixed":
        return None   # "the grand prix or the reserve chardonnay?": things of two kinds are not compared
    kind, named = _named(turn, text, intent, before, facts)
    context_kind = before.kind if before.kind in KIND_OF_SLOT_KIND else ""
    if kind == context_kind and len(named) == 1 and named[0].name == before.current(kind) \
            and not mentioned(text, named):
        named = []   # the subject path carried the subject over; the message itself names nothing
    reward = _reward_of_subject(text, before, facts)
    if reward is not None:   # "can I get it with points?" about the Staatsburg House: the reward that is it
        return Plan("reward", [reward], facts.attributes["reward"]["points"])
    if not kind:
        kind = (_kind_by_noun(text) or context_kind or ("reward" if before.topic == "ask_loyalty" else "")
                or KIND_OF_INTENT.get(intent, ""))
    if not kind:
        return None
    attributes = list(facts.attributes.get(kind, {}).values())
    # "what's the cheapest level?" names tiers by their noun, whatever intent NLU gave it
    by_noun = kind == _kind_by_noun(text) and not WINE_NOUN.search(text)
    if intent not in INTENTS_OF_KIND[kind] and not by_noun and not (named and kind in MINOR_KINDS) and not (
            kind == context_kind and len(text.split()) <= 6 and lexical(text, attributes)) and not (
            mentioned(text, named) and lexical(_without_names(text, named), attributes)):
        # a short follow-up asking an attribute of the subject is about it whatever NLU said; so is a
        # message naming a thing and asking one of its attributes ("how much is the reserve cab franc?")
        return None
    if ASKS_IF_WE_MAKE.search(text) and len(named) > 1:
        return None   # "do you make a chardonnay? my mom hates oaky ones": both, not a pick
    if kind == "wine" and not named and read_wish(text).like and (ASKS_IF_WE_MAKE.search(text) or _SEVERAL.search(text)):
        return None   # "I'm into Bordeaux-style blends, which ones do you make?": the search by what they like
    options = facts.among(kind, before.options) if kind == context_kind else []
    current = facts.find(kind, before.current(kind)) if kind == context_kind else None
    pointing = refers_back(text) or is_correction(text) or bool(_DESCRIPTOR.search(text))
    wish = read_wish(text)
    if kind == "wine" and len(named) >= 2 and (wish.max_price is not None or wish.min_price is not None):
        # "any rosé under $30": the bound keeps some of the wines named; its number picks none of them
        kept = [t for t in named if within_price(wish, t.values.get("price"))]
        return Plan(kind, kept, facts.attributes[kind].get("price")) if len(kept) == 1 else None
    if current is not None and not named and asks_what_it_is(text):
        by_value = _attribute_of_a_value(text, facts.of(kind), attributes)
        if by_value is not None:   # "is that one a red?", "is it dry?": that value's attribute, of it
            return Plan(kind, [current], by_value)
    if not named and (not pointing and (wish.types or wish.max_price or wish.min_price) or not options and current
                      is None and (wish.max_price is not None or wish.min_price is not None)):
        # "a dry white under $35", "which of your reds come in under $40?" with nothing listed before:
        # a new search of the catalog ("which" asks, it points at no set)
        return None
    following = pointing or len(text.split()) <= 6
    pool: list[Thing] = []
    candidates = facts.among("wine", [w.title for w in turn.ambiguous]) if kind == "wine" else []
    if candidates:
        pool = candidates   # "the chardonnay": one of those the name fits, by a value, or the question which
    elif len(named) >= 2:
        pool = named
    elif not named and len(options) >= 2 and (pointing or len(text.split()) <= 6 and _superlative(text, attributes)) \
            and not _means_current(text, current, attributes):
        pool = options   # "which of those ...", "notes on the cheapest?" after two were listed
    elif not named and kind == context_kind and kind != "wine" and names_a_place(text):
        pool = facts.standalone(kind)   # "I meant the middle one" with nothing listed: of all, in their order
    elif not named and (_DESCRIPTOR.search(text) or kind == "reward" or (kind != "wine" and _superlative(text, attributes))
                        or kind == "wine" and _superlative_beyond_aspects(text, attributes)) \
            and (INTENT_OF_KIND.get(kind) == intent or kind == "reward" or by_noun) \
            and not _means_current(text, current, attributes):   # "at that level": the one just answered
        # "the 4 bottle level", "a case for a penny": one of all by its values; "the cheapest flight":
        # of those the words narrow to (the flights, not the private tour)
        pool = facts.standalone(kind)
        superlative = _superlative_attribute(text, attributes)
        if superlative is not None:
            pool = narrowed(text, pool, attributes, superlative)
    if kind == "wine" and wish.types and pool:
        # "the cheaper bubbly" among the wines just listed: of the sparkling ones
        pool = [t for t in pool if t.values.get("type") in wish.types] or pool
    if named in ([], [current]) and current is not None and current in options and _OTHER.search(text):
        # "and the other one?": of two listed, or of the two of its sort among more (the tasting that
        # is not a flight, when four flights were listed beside them)
        pair = options if len(options) == 2 else _same_sort(current, options)
        if len(pair) == 2:
            named = [o for o in pair if o != current]
    # among things all named, their names tell none apart ("the jumper or the grand prix?")
    picked = choose(_without_names(text, named) if pool is named else text, pool, attributes,
                    several=bool(_SEVERAL.search(text))) if pool else None
    if picked is None and pool and pool is not named and _BY_WHAT_IT_HAS.search(text) and facts.knowledge_dir is not None:
        # "the one with Sang's Vineyard fruit": a value only that thing's own passages hold
        by_words = by_passage(text, pool, facts.knowledge_dir, FRAME_WORDS)
        if by_words is not None:
            picked = ([by_words], None)
            # what is asked of it follows the words that chose it ("..., what's on the finish?")
            asking = [c for c in clauses(text) if lexical(c, attributes)]
            text = asking[-1] if asking else text
    asks = asked(_without_names(text, named or pool), attributes, None if picked else embedder)
    if kind == "wine" and bottles_asked(text) and "price" in facts.attributes[kind]:
        asks = [Asked(facts.attributes[kind]["price"])]   # "what would 30 bottles come to?": its price, summed
    if picked:
        chosen, how = picked
        if how is not None and how.phrase and not how.direction and _asks_what_it_is_called(text, how.phrase):
            return Plan(kind, [], None, unknown=True)
        if len(chosen) == 1 and kind in DESCRIBED_KINDS and _WHAT_IT_GIVES.search(text) \
                and not lexical(unspent(text, chosen, attributes, how), attributes):
            # "moving up to the twelve-bottle tier: what would I get?": all it is, as the subject path says it
            return Plan(kind, chosen, None, how, True, describe=True)
        carried = _carried(facts.attributes.get(kind, {}), before.aspect)
        if not asks and carried is not None and (how is None or not how.direction):
            asks = [Asked(carried)]   # "no, I meant the rosé" after "how much is the reserve?": its price
        # what is asked of the one chosen: not the words that chose it ("the cheaper one, what's it like")
        rest = lexical(unspent(text, chosen, attributes, how), attributes)
        # else what chose it, when that was a superlative ("which got the better rating?": the rating)
        # else what chose it, when that was a superlative ("which got the better rating?": the rating)
        # or a value with nothing else asked ("which one has the 92 points?": its score, said back)
        attribute = rest[0].attribute if rest and not rest[0].direction else \
            (how.attribute if how is not None and how.direction else
             (carried if not rest and carried is not None else
              (how.attribute if how is not None and not rest and how.attribute.format != "yes_no" else None)))
        if attribute is None and len(attributes) == 1:
            attribute = attributes[0]   # "the half off a case one": a reward's points is all there is
        if len(chosen) > 1:
            attribute = None   # "which of those are unoaked?": the ones that are
        from_set = pool is named or pool is options or pool is candidates
        if attribute is None and not from_set:
            return None   # "do you make one?" names one of all: the subject path describes it
        # the set chosen from is what a later "and the most expensive?" chooses from again
        listed = from_set or (how is not None and how.direction)
        return Plan(kind, chosen, attribute, how, from_set, [t.name for t in pool] if listed else [])
    compared = next((a for a in asks if a.direction), None)
    if len(named) == 1 and current is not None and named[0] != current and refers_back(text) \
            and asks and (compared or _COMPARES.search(text)):
        # "is it cheaper than the Vincenza?": both values side by side (and what else is asked of them:
        # "... and where does the fruit come from?")
        attribute = (compared or asks[0]).attribute
        other = next((a.attribute for a in asks if a.attribute != attribute and not a.direction), None)
        return Plan(kind, [current, named[0]], attribute, None, False, [current.name, named[0].name], also=other)
    if candidates:
        return None   # a name that fits several wines and nothing to tell them apart: the subject path asks which
    things = named or ([current] if current is not None and following else [])
    if not asks and len(attributes) == 1 and named:
        return Plan(kind, things, attributes[0])   # a reward's points, a hat's price: all there is to ask
    aspect = aspect_of(text)
    if len(things) == 1 and not asks and kind in DESCRIBED_KINDS and _WHAT_IT_GIVES.search(text):
        return None   # "what do you get with the Grand Prix?": the subject path says all it is
    if len(things) == 1 and not asks and wish.empty and _content_words(text, things[0]) \
            and (things == [current] and not named and aspect not in SUBJECT_ASPECTS.get(kind, {aspect})
                 or kind in DESCRIBED_KINDS and not aspect):
        # asks something of the subject this model does not know ("what deposit do you need?" after a
        # room's capacity, "can I quit the Jumper after 2 shipments?"): the knowledge answers it, never
        # the aspect asked before nor a description
        return Plan(kind, [], None, unknown=True)
    carried = _carried(facts.attributes.get(kind, {}), before.aspect) if kind == context_kind else None
    if len(named) == 1 and not asks and carried is not None and _CARRIES_ON.match(text):
        asks = [Asked(carried)]   # "what about triple crown" after the Grand Prix's signup bonus: its bonus
    if not things or not asks or asks[0].direction:
        return None
    attribute = asks[0].attribute
    also = _second_asked(text, asks)
    if attribute.name in ANSWERED_BEFORE.get(kind, ()) and turn.kind == kind and [t.name for t in things] == turn.names \
            and also is None:
        # the subject path, which followed the same subject, says it with more (but only the one thing
        # asked: "how much is it and what's it taste like?" asks two)
        return None
    # the set a later "something cheaper?" compares across: the one listed, else all of a described kind
    listed = options or (facts.standalone(kind) if kind in DESCRIBED_KINDS else [])
    return Plan(kind, things, attribute, None, False, [t.name for t in listed], also=also)


def _asks_what_it_is_called(text: str, phrase: str) -> bool:
    """Whether the message asks what the words that chose a thing are ("what exactly is the Winners
    Circle?"): a value asked about itself, not the thing that has it."""
    m = _WHAT_IS.search(text)
    if not m:
        return False
    asked_words, phrase_words = set(re.findall(r"\w+", m.group(1).casefold())), set(phrase.casefold().split())
    # the words asked about are the phrase (a word more at most), not a question around it ("what is
    # your dearest white, excluding the sparkling ones?")
    return phrase_words <= asked_words and len(asked_words - phrase_words) <= 1


def _second_asked(text: str, asks: Sequence[Asked]) -> Optional[Attribute]:
    """A second attribute the message asks beside the first, joined to it ("what's included in the tour
    and how long does it run?"); None when only one is asked or the second is a word inside the first's."""
    if len(asks) < 2 or asks[1].direction or not asks[1].phrase or not asks[0].phrase:
        return None
    low = plain(text)
    first, second = low.find(plain(asks[0].phrase)), low.find(plain(asks[1].phrase))
    if first < 0 or second < 0 or plain(asks[1].phrase) in plain(asks[0].phrase) \
            or plain(asks[0].phrase) in plain(asks[1].phrase):
        return None
    between = low[min(first, second):max(first, second)]
    return asks[1].attribute if _JOINED.search(between) else None


def _carried(attributes: dict[str, Attribute], aspect: str) -> Optional[Attribute]:
    """The attribute the subject path's aspect names: by name ("bottles"); a price asked of a kind whose
    price has another name is that one (a tier's price per shipment)."""
    if not aspect:
        return None
    name = ASPECT_ATTRIBUTE.get(aspect, aspect)
    if name in attributes or aspect != "price":
        return attributes.get(name)
    return next((a for a in attributes.values() if a.format == "money" and "price" in a.words), None)


def _means_current(text: str, current: Optional[Thing], attributes: Sequence[Attribute]) -> bool:
    """Whether "it" or "that" points at the thing just answered ("how many bottles is that?" after the
    cheapest tier), not a choice among the set listed with it (no superlative, no value, no "which")."""
    return current is not None and bool(_SINGULAR.search(text)) and not _superlative(text, attributes) \
        and not re.search(r"\d|\b(which|other|those|these|them)\b", text, re.I)


# "how does its price compare to the farmhouse one?": the attribute of both, side by side
_COMPARES = re.compile(r"\b(compare|compares|compared|comparison|versus|vs|stack up|against)\b", re.I)


def _same_sort(thing: Thing, things: Sequence[Thing]) -> list[Thing]:
    """The things of the same sort as `thing` (its `kind` or `type` value: a tasting, a flight, a red)."""
    for field_name in ("kind", "type"):
        sort = thing.values.get(field_name)
        if sort:
            return [t for t in things if t.values.get(field_name) == sort]
    return []


def _kind_by_noun(text: str) -> str:
    """The kind a message names by its noun ("at the top tier", "which flight"), if exactly one."""
    low = plain(text)
    kinds = [kind for kind, nouns in KIND_NOUNS.items() if any(f" {n} " in low for n in nouns)]
    return kinds[0] if len(kinds) == 1 else ""


def _reward_of_subject(text: str, before: Subject, facts: Facts) -> Optional[Thing]:
    """The reward that is the subject being talked about (a night at the Staatsburg House), when the
    message asks what it costs in points."""
    subject = before.current() or ""
    if not subject or before.kind == "reward" or not lexical(text, [facts.attributes["reward"]["points"]]) \
            or not re.search(r"\b(points|miles|pts|redeem)\b", text, re.I):
        return None
    found = [r for r in facts.of("reward") if plain(subject).strip() in plain(r.name)]
    return found[0] if len(found) == 1 else None


def _superlative_attribute(text: str, attributes: Sequence[Attribute]) -> Optional[Attribute]:
    """The attribute a superlative asks about ("the cheapest": price), whose values narrow nothing."""
    return next((a.attribute for a in lexical(text, attributes) if a.direction), None)


def _superlative_beyond_aspects(text: str, attributes: Sequence[Attribute]) -> bool:
    """"the oldest vintage": a superlative over all wines that the subject path's aspects (cheapest,
    priciest, best rated) do not already answer."""
    found = _superlative_attribute(text, attributes)
    return found is not None and found.name not in ("price", "rating_points")


def _superlative(text: str, attributes: Sequence[Attribute]) -> bool:
    return _superlative_attribute(text, attributes) is not None


def _content_words(text: str, thing: Thing) -> set[str]:
    """The words of a message that are neither a reference, a filler nor the thing's own name."""
    return set(tokens(text)) - _FILLER - set(tokens(" ".join(thing.names())))
