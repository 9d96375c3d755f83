"""Pure text helpers of the SMS channel (no Rasa, no Twilio imports: unit-testable anywhere).

- encoding / segment counting: GSM-7 (160 per single SMS, 153 per segment of a long one,
  extension characters such as EUR or brackets take two septets) or UCS-2 as soon as one
  character is outside GSM-7 (70 / 67 UTF-16 code units; an emoji takes two);
- splitting: one body unless it is over 1,600 characters; a body that must be split is cut on
  a paragraph, sentence or word boundary into parts that fill whole segments;
- the bot's buttons as numbered options, and "2" / "2." / " 2 " mapped back to a button;
- carrier keywords (STOP, START, HELP and their synonyms);
- masking a phone number for logs (core/phones.py).
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from core.phones import mask_phone as mask_phone  # re-exported: channels/twilio.py masks numbers through sms_text
from core.texts import render

from core.sms_segments import (  # noqa: F401 - re-exported: the channel and its tests read them here
    GSM7, GSM7_BASIC, GSM7_EXTENSION, GSM_SEGMENT, GSM_SINGLE, MAX_SMS_CHARS, UCS2_SEGMENT, UCS2_SINGLE, _width,
    encoding, gsm_friendly, is_gsm7, segment_count, sms_units)

# Twilio's default opt-out keywords (Advanced Opt-Out); "opt out" is matched with its space normalised.
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
                     "OPT-OUT"})
OPT_IN = frozenset({"START", "UNSTOP", "JOIN"})  # JOIN: the keyword the winery advertises to sign up
OPT_IN_WHEN_OPTED_OUT = frozenset({"YES"})  # "yes" is an ordinary answer otherwise
HELP = frozenset({"HELP", "INFO"})

_CHOICE = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")
_PARAGRAPH = re.compile(r"\n\s*\n\s*")
_LINE = re.compile(r"\n\s*")
_SENTENCE = re.compile(r"[.!?…][\"')\]]*\s+")
_SPACE = re.compile(r"\s+")

# ---- splitting -------------------------------------------------------------------------

def _prefix_within(text: str, max_chars: int) -> int:
    """Length of the longest prefix that fills whole segments without passing max_chars."""
    budget, used = max_chars // GSM_SEGMENT * GSM_SEGMENT, 0
    for index, ch in enumerate(text):
        if ch not in GSM7:
            break  # this part will be UCS-2: count again with that budget
        used += _width(ch, True)
        if used > budget:
            return index
    else:
        return len(text)
    budget, used = max_chars // UCS2_SEGMENT * UCS2_SEGMENT, 0
    for index, ch in enumerate(text):
        used += _width(ch, False)
        if used > budget:
            return index
    return len(text)


def _boundary(text: str, limit: int) -> int:
    """Where to cut text (at most limit chars): paragraph, line, sentence, word, else hard."""
    window = text[: limit + 1]  # a space right after the limit is a word boundary too
    floor = limit // 2
    for pattern in (_PARAGRAPH, _LINE, _SENTENCE, _SPACE):
        # cut where the whitespace starts: after the punctuation, before the gap
        cuts = [m.start() + len(m.group().rstrip()) for m in pattern.finditer(window)]
        cuts = [c for c in cuts if floor <= c <= limit]
        if cuts:
            return cuts[-1]
    return limit


def split_sms(text: str, max_chars: int = MAX_SMS_CHARS) -> List[str]:
    """One body if it fits in max_chars, else parts of whole segments cut at boundaries."""
    text = text.strip()
    parts: List[str] = []
    while text:
        if sms_units(text) <= max_chars:
            parts.append(text)
            break
        limit = max(1, _prefix_within(text, max_chars))
        cut = _boundary(text, limit)
        head = text[:cut].rstrip()
        if not head:  # only whitespace before the cut: take the hard limit
            cut, head = limit, text[:limit]
        parts.append(head)
        text = text[cut:].lstrip()
    return parts


# ---- the bot's messages as one SMS -----------------------------------------------------

def join_messages(texts: Iterable[Optional[str]]) -> str:
    return "\n\n".join(t.strip() for t in texts if t and t.strip())


def _title(value: Any) -> str:
    return " ".join(str(value or "").split()).rstrip(" .:;,")


def numbered_options(titles: Sequence[str]) -> str:
    """'Reply 1 for Opening hours, 2 for Tastings or 3 for Our wines.'"""
    items = [render("utter_sms_option", "twilio", n=n, title=_title(t)) for n, t in enumerate(titles, start=1)]
    if not items:
        return ""
    if len(items) == 1:
        return render("utter_sms_options_one", "twilio", option=items[0])
    return render("utter_sms_options", "twilio", options=", ".join(items[:-1]), last=items[-1])


def compose_reply(messages: Sequence[Dict[str, Any]]) -> Tuple[str, List[Dict[str, str]]]:
    """Rasa's collected bot messages -> (one SMS body, the buttons a number now stands for).

    Only the last message with buttons is numbered (one numbering per turn); images become
    their URL; custom payloads are sent as their "text" (wine cards: name, price and link,
    actions/cards.py) or left out without one, like attachments.
    """
    last_with_buttons = max(
        (i for i, m in enumerate(messages) if _valid_buttons(m.get("buttons") or m.get("quick_replies"))),
        default=-1,
    )
    texts: List[str] = []
    buttons: List[Dict[str, str]] = []
    for index, message in enumerate(messages):
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            texts.append(text)
        image = message.get("image")
        if isinstance(image, str) and image.startswith(("http://", "https://")):
            texts.append(image)
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str) and custom["text"].strip():
            texts.append(custom["text"])
        if index == last_with_buttons:
            buttons = _valid_buttons(message.get("buttons") or message.get("quick_replies"))
            texts.append(numbered_options([b["title"] for b in buttons]))
    return join_messages(texts), buttons


def _valid_buttons(raw: Any) -> List[Dict[str, str]]:
    if not isinstance(raw, list):
        return []
    buttons = []
    for button in raw[:9]:  # single-digit replies only
        if isinstance(button, dict) and _title(button.get("title")) and isinstance(button.get("payload"), str):
            buttons.append({"title": _title(button["title"]), "payload": button["payload"]})
    return buttons


def parse_choice(text: str, count: int) -> Optional[int]:
    """'2', '2.', ' 2 ', '#2', '2)' -> index 1 when there are at least 2 options, else None."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return number - 1 if 1 <= number <= count else None


# ---- carrier keywords ------------------------------------------------------------------

def keyword(text: str, opted_out: bool = False) -> Optional[str]:
    """'stop', 'start' or 'help' when the whole message is a carrier keyword, else None."""
    word = " ".join((text or "").split()).strip(".!").upper()
    if word in OPT_OUT:
        return "stop"
    if word in OPT_IN or (opted_out and word in OPT_IN_WHEN_OPTED_OUT):
        return "start"
    if word in HELP:
        return "help"
    return None


def is_yes(text: str) -> bool:
    """The whole message is a yes ('yes', 'Yes!', 'y')."""
    return " ".join((text or "").split()).strip(".!").upper() in ("YES", "Y", "YES PLEASE")


def help_text(name: str, phone: str) -> str:
    """The answer to HELP (utter_sms_help in domain.yml)."""
    return render("utter_sms_help", "twilio", name=name, phone=phone)

