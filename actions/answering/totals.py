"""What a number of bottles comes to: "what would 6 bottles come to?", "30 of them before tax?",
"and half a case?" after one wine's price. Said after that price, from the same live row."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from actions.answering.numbers import COUNT_GROUP, value

_BOTTLES = re.compile(rf"\b{COUNT_GROUP}\s+(?:bottles?|btls?|of (?:them|those|these|it))\b", re.I)
_CASES = re.compile(r"\b(half (?:a )?case|a case|one case|a dozen|(\d{1,2}|two|three|four|five) cases)\b", re.I)
_ASKS_TOTAL = re.compile(r"\b(come to|comes to|coming to|total|altogether|all together|in all|how much (?:would|will|is|for|are)|"
                         r"what (?:would|will|does|do) .{0,30}\bcost|cost me|set me back|run me|be for)\b", re.I)


def bottles_asked(text: str) -> Optional[int]:
    """The number of bottles a message asks the total of, or None."""
    if not _ASKS_TOTAL.search(text or ""):
        return None
    m = _BOTTLES.search(text)
    if m:
        n = value(m.group(1))
        return n if n and n > 1 else None
    m = _CASES.search(text)
    if not m:
        return None
    phrase = m.group(1).casefold()
    if phrase.startswith("half"):
        return 6
    if m.group(2):
        return 12 * (value(m.group(2)) or 0) or None
    return 12


def total_line(text: str, rows: Sequence) -> Optional[tuple[int, str, str]]:
    """(bottles, wine, total in dollars) when the message asks what bottles of the one wine talked
    about come to; None otherwise."""
    count = bottles_asked(text)
    priced = [r for r in rows if getattr(r, "price", None)]
    if count is None or len(priced) != 1:
        return None
    total = count * priced[0].price
    return count, priced[0].title, f"${total:,.0f}" if total == int(total) else f"${total:,.2f}"
