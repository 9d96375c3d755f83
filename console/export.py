"""A conversation as YAML for designers: a `rasa test` story (tests/test_*.yml) and its user
turns as NLU examples (data/nlu/), with intents corrected by staff where the assistant was wrong.

The story stops where staff took over (a pause): what follows is not the assistant's to learn.
"""
from __future__ import annotations

import json
from typing import Any, Optional

import yaml

from console.db import ConsoleDB

SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start", None})


def _events(db: ConsoleDB, sender_id: str) -> list[tuple[int, dict]]:
    rows = db.all("SELECT id, data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,))
    out = []
    for event_id, data in rows:
        try:
            out.append((int(event_id), json.loads(data or "{}")))
        except ValueError:
            continue
    return out


def _literal(dumper: yaml.SafeDumper, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(str, _literal)


def steps(db: ConsoleDB, sender_id: str, fixes: Optional[dict[int, str]] = None) -> list[tuple[int, dict]]:
    """(event id, story step) for the assistant's part of the conversation."""
    fixes = fixes or {}
    out: list[tuple[int, dict]] = []
    for event_id, event in _events(db, sender_id):
        kind = event.get("event")
        if kind == "pause":
            break
        if kind == "user":
            text = str(event.get("text") or "").strip()
            intent = fixes.get(event_id) or ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if text and intent:
                step: dict = {"user": text, "intent": intent}
                entities = [{e["entity"]: e.get("value")} for e in (event.get("parse_data") or {}).get("entities") or []
                            if isinstance(e, dict) and e.get("entity")]
                if entities:
                    step["entities"] = entities
                out.append((event_id, step))
        elif kind == "action" and event.get("name") not in SKIPPED_ACTIONS:
            out.append((event_id, {"action": event["name"]}))
        elif kind == "active_loop":
            out.append((event_id, {"active_loop": event.get("name")}))
        elif kind == "slot" and out and event.get("name") not in ("requested_slot",):
            out.append((event_id, {"slot_was_set": [{event["name"]: event.get("value")}]}))
    return out


def story_yaml(db: ConsoleDB, sender_id: str, fixes: Optional[dict[int, str]] = None) -> str:
    story = {"stories": [{"story": f"from the console: conversation {sender_id}",
                          "steps": [step for _, step in steps(db, sender_id, fixes)]}]}
    return yaml.dump(story, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def nlu_yaml(db: ConsoleDB, sender_id: str, fixes: Optional[dict[int, str]] = None) -> str:
    by_intent: dict[str, list[str]] = {}
    for _, step in steps(db, sender_id, fixes):
        if "user" in step and not step["user"].startswith("/"):
            by_intent.setdefault(step["intent"], []).append(step["user"])
    nlu = [{"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)} for intent, texts in by_intent.items()]
    return yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def parse_fixes(values: list[str]) -> dict[int, str]:
    """'17:ask_hours' pairs (event id of a user turn : the right intent)."""
    fixes = {}
    for value in values:
        event_id, _, intent = value.partition(":")
        if not event_id.isdigit() or not intent.replace("_", "").isalnum():
            raise ValueError("'fix' must look like 17:ask_hours (event id : intent)")
        fixes[int(event_id)] = intent
    return fixes
