"""Helpers shared by the actions: the customer's question, contact details, links."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml
from rasa_sdk import Tracker

from actions.settings import get_settings
from core.texts import render

MAX_QUESTION_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean_text(text: Any, limit: int = MAX_QUESTION_CHARS) -> str:
    """Printable, single-spaced text of bounded length; anything else becomes ''."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())[:limit]


def without_accents(text: str) -> str:
    """"grüner", "cépage", "rosé" as the catalog and the attribute words spell them: grüner is our Gruner."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    """The customer's words; a button payload such as '/ask_wine' has none."""
    text = clean_text((tracker.latest_message or {}).get("text"))
    return "" if text.startswith("/") else text


def latest_entities(tracker: Tracker, *names: str) -> list[str]:
    values = []
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") in names and isinstance(entity.get("value"), str):
            values.append(entity["value"])
    return values


@lru_cache(maxsize=1)
def _winery(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def winery() -> dict:
    return _winery(str(get_settings().knowledge_dir / "winery.yml"))


def contact_line(email_key: str = "general") -> str:
    info = winery()
    return f"call or text us at {info['phone']} or email {info['emails'][email_key]}"


def with_link(text: str, url: Optional[str]) -> str:
    """The answer with its source page (utter_more_link), unless it already names it."""
    return text + render("utter_more_link", url=url) if url and url not in text else text
