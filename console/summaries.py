"""One summary row per conversation, folded incrementally from Rasa's `events` table.

The inbox lists, filters and searches 100,000 conversations from this small table instead of
grouping millions of events. A cursor (the last event id folded) makes each pass read only
new events; the `feedback` table (actions/feedback_store.py) marks negative ratings likewise.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from console.db import ConsoleDB, Tx

log = logging.getLogger(__name__)

BATCH = 5000
SEARCH_CHARS = 3000  # the customer's own words kept for search, per conversation
LAST_TEXT_CHARS = 200
FALLBACK_ACTIONS = frozenset({"action_answer_fallback", "action_default_fallback", "action_two_stage_fallback"})
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
HANDOFF_ACTION = "action_handoff"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


@dataclass
class _Fold:
    channel: str = ""
    started_at: Optional[float] = None
    last_at: float = 0.0
    last_event_id: int = 0
    turns: int = 0
    last_text: Optional[str] = None
    search: str = ""
    handoff_at: Optional[float] = None
    fallbacks: int = 0
    paused: Optional[int] = None
    seen: set = field(default_factory=set)


def search_terms(text: str) -> str:
    """Lower-cased words plus phones as bare digits, so '(845) 555-0100' and '8455550100' both match."""
    phones = " ".join(re.sub(r"\D", "", p) for p in _PHONE.findall(text))
    return f"{text.lower()} {phones}".strip()


def fold(rows: list[tuple]) -> dict[str, _Fold]:
    """(id, sender_id, type_name, timestamp, intent_name, action_name, data) rows -> per-conversation changes."""
    folds: dict[str, _Fold] = {}
    for event_id, sender, kind, stamp, intent, action, data in rows:
        f = folds.setdefault(sender, _Fold())
        stamp = float(stamp or 0)
        f.started_at = stamp if f.started_at is None else min(f.started_at, stamp)
        f.last_at, f.last_event_id = max(f.last_at, stamp), max(f.last_event_id, int(event_id))
        if kind == "user":
            try:
                body: dict[str, Any] = json.loads(data or "{}")
            except ValueError:
                body = {}
            text = str(body.get("text") or "")
            f.turns += 1
            f.channel = str(body.get("input_channel") or f.channel)
            if text and not text.startswith("/"):
                f.last_text = text[:LAST_TEXT_CHARS]
                f.search = f"{f.search} {search_terms(text)}"[-SEARCH_CHARS:]
            if intent in FALLBACK_INTENTS:
                f.fallbacks += 1
        elif kind == "action":
            if action == HANDOFF_ACTION:
                f.handoff_at = stamp
            elif action in FALLBACK_ACTIONS:
                f.fallbacks += 1
        elif kind == "pause":
            f.paused = 1
        elif kind in ("resume", "restart"):
            f.paused = 0
    return folds


def _apply(tx: Tx, sender: str, f: _Fold, dialect: str) -> None:
    row = tx.all("SELECT search FROM console_conversations WHERE sender_id = ?", (sender,))
    if not row:
        search = f"{sender.lower()} {f.search}".strip()[-SEARCH_CHARS:]
        tx.run("INSERT INTO console_conversations (sender_id, channel, started_at, last_at, last_event_id, turns, "
               "last_text, search, handoff_at, fallbacks, paused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (sender, f.channel, f.started_at, f.last_at, f.last_event_id, f.turns, f.last_text or "", search,
                f.handoff_at, f.fallbacks, f.paused or 0))
        return
    search = f"{row[0][0]} {f.search}"[-SEARCH_CHARS:] if f.search else row[0][0]
    tx.run("UPDATE console_conversations SET channel = CASE WHEN ? = '' THEN channel ELSE ? END, "
           "last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END, last_event_id = ?, turns = turns + ?, "
           "last_text = COALESCE(?, last_text), search = ?, handoff_at = COALESCE(?, handoff_at), "
           "fallbacks = fallbacks + ?, paused = COALESCE(?, paused) WHERE sender_id = ?",
           (f.channel, f.channel, f.last_at, f.last_at, f.last_event_id, f.turns, f.last_text, search,
            f.handoff_at, f.fallbacks, f.paused, sender))


def _cursor(db: ConsoleDB, name: str) -> int:
    row = db.one("SELECT value FROM console_cursors WHERE name = ?", (name,))
    return int(row[0]) if row else 0


def _set_cursor(tx: Tx, name: str, value: int) -> None:
    tx.run("INSERT INTO console_cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET "
           "value = excluded.value", (name, value))


def catch_up(db: ConsoleDB, batch: int = BATCH) -> int:
    """Fold every event not folded yet; returns how many events were read."""
    total = 0
    if not db.table_exists("events"):
        return 0
    while True:
        after = _cursor(db, "events")
        rows = db.all("SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
                      "WHERE id > ? ORDER BY id LIMIT ?", (after, batch))
        if not rows:
            break
        folds = fold(rows)
        with db.transaction() as tx:
            for sender, f in folds.items():
                _apply(tx, sender, f, db.dialect)
            _set_cursor(tx, "events", int(rows[-1][0]))
        total += len(rows)
        if len(rows) < batch:
            break
    _fold_feedback(db)
    return total


def _fold_feedback(db: ConsoleDB) -> None:
    if not db.table_exists("feedback"):
        return
    after = _cursor(db, "feedback")
    rows = db.all("SELECT id, conversation_id, kind, rating FROM feedback WHERE id > ? ORDER BY id LIMIT 5000",
                  (after,))
    if not rows:
        return
    with db.transaction() as tx:
        for _, sender, kind, rating in rows:
            if (kind == "thumb" and rating < 0) or (kind == "rating" and rating <= 2):
                tx.run("UPDATE console_conversations SET negative = negative + 1 WHERE sender_id = ?", (sender,))
        _set_cursor(tx, "feedback", int(rows[-1][0]))
