"""Numbers said in words ("thirty", "forty-five", "twelve"), read as their value: one table for price
limits, head counts and choices by a value ("the twelve-bottle one")."""
from __future__ import annotations

import re
from typing import Optional

_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
WORDS: dict[str, int] = {**{w: i + 1 for i, w in enumerate(_UNITS)}, **{w: i + 10 for i, w in enumerate(_TEENS)},
                         **{w: (i + 2) * 10 for i, w in enumerate(_TENS)}}
# "thirty", "forty-five", "forty five", "twelve": the spellings of 10-99 ("one" to "nine" alone are too often
# "the reserve one", "a nine-year-old" to be read as figures everywhere)
SPELLED = re.compile(rf"\b(?:({'|'.join(_TENS)})(?:[- ]({'|'.join(_UNITS)}))?|({'|'.join(_TEENS)}))\b", re.I)
# the same spellings and "two" to "nine", in one group-free pattern for other expressions to embed
SPOKEN = (rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_UNITS)}))?|{'|'.join(_TEENS)}|"
          rf"{'|'.join(_UNITS[1:])})")
# "30 bucks", "30 dollars": a price, as "$30"
_PRICE_UNIT = re.compile(r"\b(\d+)\s*(?:bucks|dollars|usd)\b", re.I)
# a count as a capture group: digits or spoken ("12", "twelve"), read with value()
COUNT_GROUP = rf"(\d{{1,4}}|{SPOKEN})"


def value(word: str) -> Optional[int]:
    """The number a word says ("forty", "12"), or None."""
    word = word.casefold()
    if word.isdigit():
        return int(word)
    if word in WORDS:
        return WORDS[word]
    m = SPELLED.fullmatch(word)
    return _spelled(m) if m else None


def _spelled(m: re.Match) -> int:
    tens, unit, teen = m.groups()
    if teen:
        return WORDS[teen.casefold()]
    return WORDS[tens.casefold()] + (WORDS[unit.casefold()] if unit else 0)


def with_digits(text: str) -> str:
    """`text` with the spelled numbers from ten up as figures and "N bucks" as "$N"."""
    text = SPELLED.sub(lambda m: str(_spelled(m)), text)
    return _PRICE_UNIT.sub(r"$\1", text)


_POINTS_SAID = re.compile(r"\b\d[\d,.]*\s*k?\s*(points|miles|pts)\b", re.I)


def states_points(text: str) -> bool:
    """"I have about 5000 points": the customer says how many; what they buy needs no balance looked up."""
    return bool(_POINTS_SAID.search(text or ""))
