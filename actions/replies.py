"""Texts the actions send, kept in actions/replies.yml so conversation designers
can edit them without touching code (domain.yml keeps the responses rules use)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk.executor import CollectingDispatcher

REPLIES_FILE = Path(__file__).with_name("replies.yml")


@lru_cache(maxsize=1)
def replies() -> dict[str, dict]:
    return yaml.safe_load(REPLIES_FILE.read_text(encoding="utf-8"))


def text(key: str, **values: Any) -> str:
    return replies()[key]["text"].format(**values)


def say(dispatcher: CollectingDispatcher, key: str, **values: Any) -> None:
    entry = replies()[key]
    dispatcher.utter_message(text=entry["text"].format(**values), buttons=entry.get("buttons") or [])
