"""One summary row per conversation, folded incrementally from Rasa's `events` table.

The inbox lists, filters and searches 100,000 conversations from this small table instead of
grouping millions of events. A cursor (the last event id folded) makes each pass read only
new events; the `feedback` table (core/feedback_store.py) marks negative ratings likewise.
"""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Optional
from zoneinfo import ZoneInfo

from console.db import ConsoleDB, Tx
from console.settings import ConsoleSettings

log = logging.getLogger(__name__)

BATCH = 5000
SEARCH_CHARS = 3000  # the customer's own words kept for search, per conversation
LAST_TEXT_CHARS = 200
FALLBACK_ACTIONS = frozenset({"action_answer_fallback", "action_default_fallback", "action_two_stage_fallback"})
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
HANDOFF_ACTION = "action_handoff"
# a damaged delivery is a hand-off with the order attached (actions/account/orders.py)
HANDOFF_ACTIONS = frozenset({HANDOFF_ACTION, "action_report_damage"})
SIGNUP_FORM, SIGNUP_SUBMIT = "club_signup_form", "action_submit_club_signup"
CAPTURED_SLOTS = frozenset({"email", "phone"})
LATENCY_BUCKETS_MS = (250, 500, 1000, 2000, 3000, 5000, 8000, 15000, 30000)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


@lru_cache(maxsize=1)
def tz() -> ZoneInfo:
    """The winery's days (CONSOLE_TZ, console/settings.py)."""
    return ZoneInfo(ConsoleSettings.from_env().timezone)


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
    first_user_at: Optional[float] = None
    waiting_since: Optional[float] = None  # a user message not answered yet (response time)
    turn_fell_back: bool = False  # a turn falls back once, however many fallback steps it took
    last_user_text: str = ""
    questions: list = field(default_factory=list)  # (at, text) the assistant fell back on

    def fell_back(self, daily: Counter, day: str, stamp: float) -> None:
        if not self.turn_fell_back:
            self.turn_fell_back = True
            self.fallbacks += 1
            daily[(day, "fallback", "")] += 1
            if self.last_user_text:
                self.questions.append((stamp, self.last_user_text))


def day_of(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz()).strftime("%Y-%m-%d")


def _bucket(ms: float) -> str:
    return str(next((b for b in LATENCY_BUCKETS_MS if ms <= b), 10 ** 6))


def search_terms(text: str) -> str:
    """Lower-cased words plus phones as bare digits, so '(845) 555-0100' and '8455550100' both match."""
    phones = " ".join(re.sub(r"\D", "", p) for p in _PHONE.findall(text))
    return f"{text.lower()} {phones}".strip()


def fold(rows: list[tuple], daily: Optional[Counter] = None) -> dict[str, _Fold]:
    """(id, sender_id, type_name, timestamp, intent_name, action_name, data) rows -> per-conversation changes;
    `daily` counts (day, metric, key) for the overview."""
    folds: dict[str, _Fold] = {}
    daily = Counter() if daily is None else daily
    for event_id, sender, kind, stamp, intent, action, data in rows:
        f = folds.setdefault(sender, _Fold())
        stamp = float(stamp or 0)
        f.started_at = stamp if f.started_at is None else min(f.started_at, stamp)
        f.last_at, f.last_event_id = max(f.last_at, stamp), max(f.last_event_id, int(event_id))
        day = day_of(stamp)
        body: dict[str, Any] = {}
        if kind in ("user", "slot", "active_loop"):
            try:
                body = json.loads(data or "{}")
            except ValueError:
                body = {}
        if kind == "user":
            text = str(body.get("text") or "")
            f.turns += 1
            if f.first_user_at is None:
                f.first_user_at = stamp
            f.waiting_since = f.waiting_since or stamp
            f.turn_fell_back = False
            f.last_user_text = text[:500] if text and not text.startswith("/") else ""
            daily[(day, "turns", "")] += 1
            daily[(day, "intent", intent or "none")] += 1
            f.channel = f.channel or str(body.get("input_channel") or "")  # the first: whose thread it is
            if text and not text.startswith("/"):
                f.last_text = text[:LAST_TEXT_CHARS]
                f.search = f"{f.search} {search_terms(text)}"[-SEARCH_CHARS:]
            if intent in FALLBACK_INTENTS:
                f.fell_back(daily, day, stamp)
        elif kind == "bot":
            if f.waiting_since is not None:
                daily[(day, "latency", _bucket((stamp - f.waiting_since) * 1000))] += 1
                f.waiting_since = None
        elif kind == "slot":
            if body.get("name") in CAPTURED_SLOTS and body.get("value"):
                daily[(day, "captured", body["name"])] += 1
        elif kind == "active_loop":
            if body.get("name") == SIGNUP_FORM:
                daily[(day, "signup", "started")] += 1
        elif kind == "action":
            if action in HANDOFF_ACTIONS:
                f.handoff_at = stamp
                daily[(day, "handoff", "")] += 1
            elif action in FALLBACK_ACTIONS:
                f.fell_back(daily, day, stamp)
            elif action == SIGNUP_SUBMIT:
                daily[(day, "signup", "submitted")] += 1
        elif kind == "pause":
            f.paused = 1
        elif kind in ("resume", "restart"):
            f.paused = 0
    return folds


def _apply(tx: Tx, sender: str, f: _Fold, daily: Counter) -> None:
    row = tx.all("SELECT search, turns FROM console_conversations WHERE sender_id = ?", (sender,))
    if f.first_user_at is not None and (not row or row[0][1] == 0):  # a conversation counts from its first message
        daily[(day_of(f.first_user_at), "conversations", f.channel or "unknown")] += 1
    for at, text in f.questions:
        tx.run("INSERT INTO console_questions (sender_id, at, kind, text) VALUES (?, ?, 'fallback', ?)",
               (sender, at, text))
    if not row:
        search = f"{sender.lower()} {f.search}".strip()[-SEARCH_CHARS:]
        tx.run("INSERT INTO console_conversations (sender_id, channel, started_at, last_at, last_event_id, turns, "
               "last_text, search, handoff_at, fallbacks, paused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (sender, f.channel, f.started_at, f.last_at, f.last_event_id, f.turns, f.last_text or "", search,
                f.handoff_at, f.fallbacks, f.paused or 0))
        return
    search = f"{row[0][0]} {f.search}"[-SEARCH_CHARS:] if f.search else row[0][0]
    # the channel stays the one the customer first wrote through (a later message from another
    # channel under the same id must not make an SMS customer's thread a web chat)
    tx.run("UPDATE console_conversations SET channel = CASE WHEN channel = '' THEN ? ELSE channel END, "
           "last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END, last_event_id = ?, turns = turns + ?, "
           "last_text = COALESCE(?, last_text), search = ?, handoff_at = COALESCE(?, handoff_at), "
           "fallbacks = fallbacks + ?, paused = COALESCE(?, paused) WHERE sender_id = ?",
           (f.channel, f.last_at, f.last_at, f.last_event_id, f.turns, f.last_text, search,
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
        daily: Counter = Counter()
        folds = fold(rows, daily)
        with db.transaction() as tx:
            for sender, f in folds.items():
                _apply(tx, sender, f, daily)
            _add_daily(tx, daily)
            _set_cursor(tx, "events", int(rows[-1][0]))
        total += len(rows)
        if len(rows) < batch:
            break
    _fold_feedback(db)
    return total


def _epoch(created: object) -> float:
    try:
        return datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _add_daily(tx: Tx, daily: Counter) -> None:
    for (day, metric, key), n in sorted(daily.items()):
        tx.run("INSERT INTO console_daily (day, metric, key, n) VALUES (?, ?, ?, ?) ON CONFLICT (day, metric, key) "
               "DO UPDATE SET n = console_daily.n + excluded.n", (day, metric, key[:120], n))


def _fold_feedback(db: ConsoleDB) -> None:
    if not db.table_exists("feedback"):
        return
    after = _cursor(db, "feedback")
    rows = db.all("SELECT id, conversation_id, kind, rating, created_at, question_text, answer_text FROM feedback "
                  "WHERE id > ? ORDER BY id LIMIT 5000", (after,))
    if not rows:
        return
    daily: Counter = Counter()
    with db.transaction() as tx:
        for _, sender, kind, rating, created, question, answer in rows:
            if (kind == "thumb" and rating < 0) or (kind == "rating" and rating <= 2):
                tx.run("UPDATE console_conversations SET negative = negative + 1 WHERE sender_id = ?", (sender,))
                if question:
                    tx.run("INSERT INTO console_questions (sender_id, at, kind, text, answer) VALUES "
                           "(?, ?, 'thumbs_down', ?, ?)", (sender, _epoch(created), question[:500], (answer or "")[:500]))
            day = str(created or "")[:10]
            if len(day) == 10:
                key = ("up" if rating > 0 else "down") if kind == "thumb" else f"{rating} stars"
                daily[(day, "rating", key)] += 1
        _add_daily(tx, daily)
        _set_cursor(tx, "feedback", int(rows[-1][0]))
