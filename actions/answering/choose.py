"""Choosing things of a set: by a superlative ("the cheaper one", "the oldest vintage") or by a
value the customer names ("the unoaked one", "the 12 bottle one", "the one with Merlot")."""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Optional, Sequence

from actions.answering.attributes import Asked, found, lexical, normalise
from actions.answering.facts import Attribute, Thing
from actions.answering.numbers import value
from actions.knowledge.text import stem

# Words that name no value: a descriptor's frame ("the ... one") and question words.
FRAME_WORDS = frozenset("""the a an one ones that this those these which who what whats is it its of for with
    to and or in on i we you u me my our your do does did got get has have had be are was were about
    can could would should will please pls k ok so just one's wine wines bottle bottles level tier
    club option options kind type how much many more most less least than then thing there milea""".split())
# Words of names that also name the whole kind ("a tasting" is any of them, not the Seated Guided Tasting).
_KIND_WORDS = frozenset({"tasting", "wine", "bottle", "tier", "level", "membership", "room", "space", "reward"})
_NEGATION = ("un", "non", "non ", "no ", "not ", "without ", "never ", "isnt ", "isn't ", "arent ", "aren't ",
             "wasnt ", "wasn't ", "doesnt ", "doesn't ", "less ", "doesnt see ", "doesn't see ", "does not see ",
             "no new ", "never sees ", "zero ")


def plain(text: str) -> str:
    """Normalised text with accents dropped ("rosé" -> "rose") and "&" read as "and"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").replace("&", " and "))
    return normalise("".join(c for c in decomposed if not unicodedata.combining(c)))


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def extreme(things: Sequence[Thing], asked: Asked) -> Optional[Thing]:
    """The one thing with the lowest or highest value of the asked attribute (None on a tie or no values)."""
    valued = [(v, t) for t in things if (v := _sortable(t.value(asked.attribute))) is not None]
    if len(valued) == 1 and asked.direction == "high":
        return valued[0][1]   # "which of those is rated?": the only one with a score
    if len(valued) < 2:
        return None
    valued.sort(key=lambda vt: vt[0], reverse=asked.direction == "high")
    if valued[0][0] == valued[1][0]:
        return None
    return valued[0][1]


def _sortable(value: Any) -> Optional[float]:
    number = _number(value)
    if number is not None:
        return number
    if isinstance(value, str):   # "NV" sorts as no year; "15% off wine" by its number
        m = re.search(r"\d+(?:\.\d+)?", value)
        return float(m.group(0)) if m else None
    return None


def _value_words(value: Any) -> set[str]:
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_value_words(v) for v in value)) if value else set()
    number = _number(value)
    if number is not None:
        return {f"{number:g}"}
    return _words(str(value))


def _words(text: str) -> set[str]:
    """The words of a text that can name a value, singular ("flights" is "flight"); a number as its
    value says it ("10k", "10,000" and "$10000" are all "10000")."""
    joined = re.sub(r"(\d),(\d{3})\b", r"\1\2", text or "")
    joined = re.sub(r"\bhalf (a )?case\b", "6 bottles", joined, flags=re.I)   # a case is 12 bottles
    return {_as_number(stem(w)) for w in plain(joined).split()} - FRAME_WORDS




def _as_number(word: str) -> str:
    said = value(word) if word != "one" else None   # "one" is mostly "the X one"
    if said is not None and not word.isdigit():
        return str(said)
    m = re.fullmatch(r"\$?(\d+(?:[.,]\d+)*)(k?)", word)
    if not m:
        return word
    number = float(m.group(1).replace(",", "")) * (1000 if m.group(2) else 1)
    return f"{number:g}"


def _boolean_wanted(text: str, attribute: Attribute) -> tuple[Optional[bool], str]:
    """(True/False, the word) when a yes-no attribute is named ("oaked" / "unoaked", "no oak")."""
    for word in attribute.words:
        if " " in word:
            continue
        if any(f"{neg}{word}" in text for neg in _NEGATION):
            return False, word
        if found(word, text):
            return True, word
    return None, ""


def by_value(text: str, things: Sequence[Thing], attributes: Sequence[Attribute],
             several: bool = False) -> Optional[tuple[list[Thing], str, str]]:
    """The things whose values the text names best (one, or with `several` all that tie), with the
    attribute that told them apart and the word."""
    low = plain(text)
    # a word that names an attribute ("shipment", "bottles") names no value
    # and the words of an attribute's longer phrases when it is asked ("how many bottles in each
    # shipment": the bottles per shipment, no tier whose extras speak of shipments)
    asked_now = {a.attribute for a in lexical(text, attributes) if not a.direction}
    words = _words(text) - {stem(w) for a in attributes for w in a.words if " " not in w} \
        - {stem(w) for a in asked_now for phrase in a.words for w in phrase.split()}
    shared_name_words = set.intersection(*(_words(t.name) for t in things)) if things else set()
    scores: list[tuple[float, Thing, str, str]] = []
    for thing in things:
        best, why, word = 0.0, "", ""
        for attribute in attributes:
            value = thing.value(attribute)
            if attribute.format == "yes_no":
                wanted, said = _boolean_wanted(low, attribute)
                if wanted is not None and value is not None and bool(value) == wanted:
                    best, why, word = best + 1.5, attribute.name, said
                continue
            hits = words & _value_words(value)
            if hits:
                best, why, word = best + len(hits), why or attribute.name, word or sorted(hits)[0]
        name_words = _words(thing.name) - shared_name_words
        name_hits = words & name_words
        if name_hits:   # of two names with the same words, the one with fewer others is meant
            # (counting every word of the name: "Milea Flight" is no closer to "flights" than "Heritage Flight")
            best += len(name_hits) - 0.01 * len({stem(w) for w in plain(thing.name).split()} - words)
        scores.append((best, thing, why or "name", word))
    scores.sort(key=lambda s: -s[0])
    if not scores or scores[0][0] <= 0:
        return None
    top = [s for s in scores if s[0] == scores[0][0]]
    if len(top) > 1 and (not several or len(top) == len(scores)):
        return None
    return [s[1] for s in top], scores[0][2], scores[0][3]


def narrowed(text: str, things: Sequence[Thing], attributes: Sequence[Attribute],
             but: Optional[Attribute] = None, near: str = "") -> list[Thing]:
    """The things whose values hold a word of the text, by any attribute but `but` ("the priciest
    flight" among tastings); all of them when no word narrows."""
    words = _words(text)
    # a word of a name beside the superlative `near` narrows too ("the cheaper seated one": of the seated ones)
    beside = _words(" ".join(_around(plain(text).split(), plain(near).split()))) if near else set()
    shared = set.intersection(*(_words(t.name) for t in things)) if things else set()
    kept = [t for t in things if any(words & _value_words(t.value(a)) for a in attributes if a != but)
            or beside & (_words(t.name) - shared - _KIND_WORDS)]
    return kept if kept else list(things)


def _around(words: list[str], phrase: list[str], reach: int = 2) -> list[str]:
    """The words within `reach` of where `phrase` stands in `words`."""
    for i in range(len(words) - len(phrase) + 1):
        if phrase and words[i:i + len(phrase)] == phrase:
            return words[max(0, i - reach):i] + words[i + len(phrase):i + len(phrase) + reach]
    return []


# "the middle one", "the 2nd option", "the last": a place in the set as it was listed
_ORDINAL = re.compile(r"\bthe (first|1st|second|2nd|third|3rd|fourth|4th|last|middle|latter|former)"
                      r"(?= (?:one|ones|option|choice|tier|level|wine|bottle|flight|tasting|reward|room|space)\b|\s*$|\s*[?.!,])",
                      re.I)
_PLACES = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "last": -1}


def names_a_place(text: str) -> bool:
    return bool(_ORDINAL.search(text or ""))


def by_place(text: str, things: Sequence[Thing]) -> Optional[Thing]:
    """The thing at the place the text names in `things` (in the order they were listed)."""
    m = _ORDINAL.search(text or "")
    if not m:
        return None
    word = m.group(1).casefold()
    if word == "middle":
        return things[len(things) // 2] if len(things) % 2 == 1 else None
    if word in ("former", "latter"):
        return (things[0] if word == "former" else things[-1]) if len(things) == 2 else None
    place = _PLACES[word]
    return things[place] if place < len(things) else None


def choose(text: str, things: Sequence[Thing], attributes: Sequence[Attribute],
           several: bool = False) -> Optional[tuple[list[Thing], Optional[Asked]]]:
    """The things of `things` the text picks out (one; or, with `several`, all that fit a value), and
    the attribute that told them apart (None: their names or their place); a place in the list first,
    then a superlative, then a value."""
    if len(things) < 2:
        return None
    placed = by_place(text, things)
    if placed is not None:
        return [placed], None
    for asked in lexical(text, attributes):
        if asked.direction and not _of_another(text, asked, attributes):
            narrow = narrowed(text, things, attributes, asked.attribute, asked.phrase)
            picked = narrow[0] if len(narrow) == 1 else extreme(narrow, asked)
            if picked is not None:
                return [picked], asked
    valued = by_value(text, things, attributes, several)
    if valued is None:
        return None
    chosen, name, word = valued
    attribute = next((a for a in attributes if a.name == name), None)
    return chosen, (Asked(attribute, "", 0.0, word) if attribute else None)


def _of_another(text: str, asked: Asked, attributes: Sequence[Attribute]) -> bool:
    """Whether the superlative is said of another attribute ("the oldest vines", not the oldest vintage)."""
    low = plain(text)
    at = low.find(f" {plain(asked.phrase).strip()} ")
    after = low[at:].split()[len(asked.phrase.split()):][:1] if at >= 0 else []
    others = {stem(w) for a in attributes if a != asked.attribute for w in a.words if " " not in w}
    return bool(after) and stem(after[0]) in others


def unspent(text: str, chosen: Sequence[Thing], attributes: Sequence[Attribute], how: Optional[Asked]) -> str:
    """The text without the words that chose (a superlative; a value and the unit beside it: "the 4
    bottle level"), so what remains says what is asked of the thing chosen."""
    words = plain(text).split()
    said = set(plain(how.phrase).split()) if how is not None and how.phrase else set()
    if how is not None and how.direction:
        return " ".join(w for w in words if w not in said)
    values = set().union(*(_value_words(t.value(a)) for t in chosen for a in attributes)) if chosen else set()
    values |= set().union(*(_words(t.name) for t in chosen)) if chosen else set()
    units = {stem(w) for w in how.attribute.words if " " not in w} if how is not None else set()
    spent = {i for i, w in enumerate(words) if stem(w) in values or w in said}
    spent |= {j for i in spent for j in (i - 1, i + 1) if 0 <= j < len(words) and stem(words[j]) in units}
    return " ".join(w for i, w in enumerate(words) if i not in spent)
