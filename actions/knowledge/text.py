"""Tokens for lexical matching: lower case, light stemming, stop words out,
and a few customer phrasings mapped to the words the knowledge base uses."""
from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import Counter
from typing import Iterable

STOP_WORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have
    how i if in into is it its just me my of on or our ours please so than that the their them
    then there these they this those to too up us was we were what when where which who whom why
    will with would you your yours about any some tell know want like get got im id ive youre
    hi hello hey thanks thank ok okay there milea whats hows wheres u ur she he her his him hers
    ve ll re great cool awesome perfect lol lmao haha gonna wanna""".split()
    # "she", the tails of "we've", "we'll", "we're", and "great."/"lol" around a question: they only lower every score
)

# Customer words -> knowledge words. Expansion only adds tokens; it never removes.
EXPANSIONS = {
    "much": ["price", "cost"], "cost": ["price"], "price": ["cost"], "pricing": ["price", "cost"],
    "expensive": ["price"], "cheap": ["price"], "fee": ["price", "cost"],
    "kid": ["children"], "kids": ["children"], "child": ["children"], "baby": ["children"],
    "dog": ["dogs", "leashed"], "dogs": ["leashed"], "pup": ["dogs"], "puppy": ["dogs"], "pet": ["dogs"], "pets": ["dogs"],
    "wheelchair": ["accessible", "accessibility"], "handicap": ["accessible"], "ada": ["accessible"],
    "food": ["food", "menu"], "eat": ["food", "menu"], "picnic": ["outside", "food"], "snack": ["food"],
    "book": ["reservation", "reservations", "tock"], "booking": ["reservation", "tock"], "reserve": ["reservation"],
    "rsvp": ["reservation"], "walkin": ["walk"], "group": ["groups", "guests"],
    "where": ["address", "located"], "big": ["size", "acre"], "large": ["size", "acre"], "size": ["acre"],
    "award": ["accolade", "points", "rated"], "awards": ["accolade", "rated"], "timezone": ["time", "zone"], "address": ["located"], "directions": ["route", "drive"],
    "drive": ["hours", "north"], "train": ["station", "poughkeepsie"], "uber": ["ride", "share"], "lyft": ["ride", "share"],
    "park": ["parking"], "ship": ["shipping", "ships", "states"], "deliver": ["shipping", "ships"],
    "wedding": ["weddings", "events"], "party": ["event", "events", "private"], "capacity": ["guests", "seated"],
    "points": ["miles", "points"], "reward": ["rewards", "redeem", "redemption"], "rewards": ["redeem", "points"],
    "expire": ["expiry", "expires"], "cancel": ["cancellation", "cancelling"], "quit": ["cancel", "cancellation"],
    "owner": ["owners"], "own": ["owners"], "founded": ["bought", "1984"], "history": ["1984", "bought"],
    "chef": ["executive", "chef"], "winemaker": ["winemaker"], "grape": ["grapes", "plantings", "planted"],
    "grapes": ["plantings", "planted"], "soil": ["soils"], "sustainable": ["sustainability", "certified"],
    "red": ["red"], "white": ["white"], "bubbly": ["sparkling"], "champagne": ["sparkling"], "rose": ["rose"],
    "recommend": ["recommendation", "favorite"], "pair": ["pairing", "pairs", "match"], "pairing": ["pairs", "match"],
    "stay": ["lodging", "staatsburg", "house", "sleeps"], "lodging": ["staatsburg", "house"], "hotel": ["lodging", "staatsburg"],
    "tasting": ["tasting", "tastings"], "flight": ["flights"], "cocktail": ["cocktails"], "drinks": ["cocktails"],
    "band": ["music"], "dj": ["music"], "cake": ["outside", "food"], "bakery": ["outside", "food"],
    "cab": ["taxi"], "bail": ["cancel", "early"], "commit": ["commitment", "minimum"],
    "deposit": ["deposit", "book"], "toddler": ["children"], "stroller": ["children"], "teen": ["children"],
    "gm": ["general", "manager"], "boss": ["manager"], "charge": ["manager", "price"], "making": ["winemaker"],
    "makes": ["winemaker"], "refer": ["referral"], "referring": ["referral"], "referred": ["referral"],
    "traffic": ["late", "hold"], "box": ["shipment"], "boxes": ["shipments"], "vanish": ["expire"],
    "disappear": ["expire"], "lose": ["expire"], "whiskey": ["cocktails"],
    "beer": ["cocktails"], "spirits": ["cocktails"], "liquor": ["cocktails"], "penalty": ["cancellation", "fee"],
    "drop": ["cancel"], "delivery": ["shipping", "ship"], "grow": ["planted", "plantings", "estate"],
    "retriever": ["dogs"], "labrador": ["dogs"], "corgi": ["dogs"], "doodle": ["dogs"], "poodle": ["dogs"],
    "terrier": ["dogs"], "beagle": ["dogs"], "husky": ["dogs"], "shepherd": ["dogs"],
    "grown": ["planted", "estate"], "place": ["farm", "estate"], "owned": ["owners", "bought"],
    "since": ["bought", "1984"], "walker": ["accessible"], "steps": ["accessible"], "stairs": ["accessible"],
    "spot": ["reservation", "table"], "behind": ["late", "hold"], "lock": ["deposit", "reserve"],
    "tax": ["tax", "service"], "taxes": ["tax", "service"], "fees": ["service", "charge", "tax"],
    "dirt": ["soil"], "ground": ["soil"], "eco": ["sustainable", "sustainability"], "green": ["sustainable"],
    "environment": ["sustainable"], "road": ["route"], "highway": ["route"], "splash": ["additional", "pour"],
    "refill": ["additional", "pour"], "corkscrew": ["opener"], "invited": ["invitation"], "invite": ["invitation"],
    "curfew": ["music", "until"], "loud": ["music"], "rez": ["reservation", "walk"], "res": ["reservation"],
    "sandwich": ["outside", "food"], "sandwiches": ["outside", "food"], "lunch": ["outside", "food"],
    "pizza": ["outside", "food"], "away": ["expire"], "opener": ["opener", "merchandise"],
    "grab": ["pick"], "collect": ["pick"], "allowed": ["permitted", "welcome"], "allow": ["permitted", "welcome"],
    "little": ["children"], "overnight": ["stay", "sleeps", "staatsburg"], "crash": ["stay", "sleeps"],
    "sit": ["seated"], "sitting": ["seated"], "seat": ["seated"], "person": ["coordinator", "contact"],
    "planner": ["coordinator"], "planning": ["coordinator", "plans"],
    "signing": ["signup", "join"], "signed": ["signup", "join"], "extra": ["bonus", "additional"],
    "sleep": ["sleeps", "lodging", "stay"], "built": ["dates"], "critic": ["accolade", "points"],
    "critics": ["accolade", "points"], "score": ["accolade", "points"], "replace": ["price"],
    "glasses": ["stemless", "glass"], "pickup": ["pick"], "show": ["walk"], "bucks": ["price"], "dollars": ["price"],
    "zip": ["address", "located"], "zipcode": ["address", "located"], "postal": ["address"], "hungry": ["food", "menu"], "starving": ["food", "menu"], "pack": ["outside", "food"], "packing": ["outside", "food"], "cooler": ["outside", "picnic"],
}

_HEAD_COUNT = re.compile(r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)\s*"
                         r"(of us|people|ppl|guests|persons|adults|friends|girls|guys|ladies|pax)\b|"
                         r"\b(party|group|table) of\s+\w+", re.I)
_TOKEN = re.compile(r"\$?\d+(?:[.,]\d+)*%?|[a-z]+")


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_CLAUSE_BREAK = re.compile(r"[,;:]\s+|\s[-–—]\s")


def clauses(text: str) -> list[str]:
    """The clauses of a message, split at commas, semicolons, colons and dashes ("wait before my name,
    how many points ..." -> "wait before my name", "how many points ...")."""
    return _CLAUSE_BREAK.split(text or "")


def fold_accents(text: str) -> str:
    """"Blaufränkisch" and "Grüner" as the knowledge base spells them: Blaufrankisch, Gruner."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _raw_words(text: str) -> list[str]:
    # "e-mail" and "email" are one word (split, "e-mail" matched nothing a visitor types)
    return _TOKEN.findall(re.sub(r"\be-mail", "email", fold_accents((text or "").lower()).replace("’", "'")))


def tokens(text: str) -> list[str]:
    out = []
    for raw in _raw_words(text):
        if raw.startswith("$"):
            out.extend([raw.lstrip("$").replace(",", ""), "price"])
        elif raw[0].isdigit():
            out.append(raw.replace(",", ""))  # "1,000" and "1000" are one number
        elif raw not in STOP_WORDS and len(raw) > 1:
            out.append(stem(raw))
    return out


def query_terms(text: str) -> list[tuple[str, ...]]:
    """The question's words, each with the knowledge-base words that also answer it."""
    groups: dict[str, tuple[str, ...]] = {}
    for t in tokens(text):
        groups.setdefault(t, tuple(dict.fromkeys([t, *(stem(e) for e in EXPANSIONS.get(t, []))])))
    # A head count ("12 of us", "party of nine", "20 ppl") asks the group policy.
    if _HEAD_COUNT.search(text or ""):
        groups.setdefault("group", ("group", "guest"))
    # Question words such as "where" are stop words, yet they say what is asked.
    for raw in _raw_words(text):
        if raw in STOP_WORDS and raw in EXPANSIONS:
            groups.setdefault(raw, tuple(stem(e) for e in EXPANSIONS[raw]))
    return list(groups.values())


class LexicalIndex:
    """IDF-weighted coverage: the share of the question's weight a passage contains.

    Bounded in [0, 1] (unlike raw BM25), so one relevance threshold works for
    every question. A word counts as found when it or one of its expansions is.
    """

    def __init__(self, docs: Iterable[str]) -> None:
        self.doc_tokens = [set(tokens(d)) for d in docs]
        n = max(len(self.doc_tokens), 1)
        df = Counter(t for toks in self.doc_tokens for t in toks)
        self.idf = {t: math.log((n + 1) / (c + 0.5)) + 1.0 for t, c in df.items()}
        self.unknown_idf = math.log((n + 1) / 0.5) + 1.0
        self._vocabulary = sorted(self.idf)

    def correct(self, query: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """Add the closest known word to each unknown word, so "reservaton" finds "reservation"."""
        fixed = []
        for group in query:
            if not any(t in self.idf for t in group) and len(group[0]) > 4 and not group[0][0].isdigit():
                close = difflib.get_close_matches(group[0], self._vocabulary, n=1, cutoff=0.85)
                group = group + tuple(close)
            fixed.append(group)
        return fixed

    def weight(self, group: tuple[str, ...]) -> float:
        known = [self.idf[t] for t in group if t in self.idf]
        return max(known) if known else self.unknown_idf

    def coverage(self, query: list[tuple[str, ...]], doc: set[str]) -> float:
        total = hit = 0.0
        for group in query:
            w = self.weight(group)
            total += w
            if any(t in doc for t in group):
                hit += w
        return hit / total if total else 0.0

    def score(self, query: list[tuple[str, ...]], i: int) -> float:
        return self.coverage(query, self.doc_tokens[i])
