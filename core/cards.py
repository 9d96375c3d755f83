"""Payment card numbers in what a customer writes: never stored, never echoed, never sent on.

The channels refuse a message holding one before Rasa sees it (nothing reaches the tracker store,
the event bus or the SMS log) and say where a card goes instead; the forms' validators refuse one
as a phone number or a date.
"""
from __future__ import annotations

import re

_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


def looks_like_card_number(text: str) -> bool:
    """A 13-19 digit run passing the Luhn check."""
    for match in _CARD.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return True
    return False


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
