"""Input hygiene shared by every channel: clean text, bounded length, and
button payloads that cannot set slots a customer should only fill through a form."""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Optional

MAX_MESSAGE_CHARS = 2000
# Metadata nested deeper than this is refused: Rasa deep-copies and JSON-encodes it with
# recursion, and ~900 levels (which JSON parsers accept) end in a RecursionError (a 5xx).
MAX_METADATA_DEPTH = 32
# Entities a button may carry; anything else in a typed "/intent{...}" is dropped.
PAYLOAD_ENTITIES = frozenset({"wine", "varietal", "weekday", "date_phrase", "club_tier"})
# Controls, zero-width and bidi marks, BOM, and lone surrogates (from JSON escapes such as
# "\ud800": no UTF-8 form, so the SQL tracker store cannot even look such a sender up).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_PAYLOAD = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,63})(?:@[0-9.]+)?(\{.*\})?$", re.S)


class RejectedMessage(ValueError):
    """A message the channel answers with a 4xx and a reason the sender can act on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def clean_text(value: Any) -> str:
    if not isinstance(value, str):
        raise RejectedMessage(400, "'message' must be a string of text")
    text = unicodedata.normalize("NFKC", value)
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    if not text:
        raise RejectedMessage(400, "'message' is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise RejectedMessage(413, f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def guard_payload(text: str) -> str:
    """Keep '/intent' button payloads, drop entities a button never sends.

    Text that merely starts with '/' but is not a payload loses the slash, so NLU
    reads it as ordinary words.
    """
    if not text.startswith("/"):
        return text
    match = _PAYLOAD.match(text)
    if not match:
        return text.lstrip("/").strip() or "hello"
    intent, raw_entities = match.group(1), match.group(2)
    if not raw_entities:
        return f"/{intent}"
    try:
        entities = json.loads(raw_entities)
    except (ValueError, RecursionError):  # '{"wine":[[[[...' ~1,000 deep raises RecursionError
        return f"/{intent}"
    if not isinstance(entities, dict):
        return f"/{intent}"
    safe = {
        k: v for k, v in entities.items()
        if k in PAYLOAD_ENTITIES and isinstance(v, str) and 0 < len(v) <= 80 and not _CONTROL.search(v)
    }
    return f"/{intent}{json.dumps(safe)}" if safe else f"/{intent}"


def clean_sender(value: Any) -> Optional[str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > 128:
        return None
    return _CONTROL.sub("", value).strip() or None


def nested_too_deep(value: Any, limit: int = MAX_METADATA_DEPTH) -> bool:
    """True when dicts and lists nest more than `limit` levels (checked without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def prepare_message(value: Any) -> str:
    return guard_payload(clean_text(value))
