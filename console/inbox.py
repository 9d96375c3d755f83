"""What the inbox shows: conversations newest first with filters and search, one transcript,
and the queue of hand-off requests nobody has taken yet. Reads only; see summaries.py."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from console.db import ConsoleDB

PAGE = 50
CHANNELS = ("socketio", "twilio", "rest")
CHANNEL_LABELS = {"socketio": "Web chat", "twilio": "SMS", "rest": "REST API", "": "Unknown"}
MAX_QUERY = 100


class BadFilter(ValueError):
    """A filter the inbox cannot apply, with the reason."""


@dataclass(frozen=True)
class Filters:
    q: str = ""
    channel: str = ""
    handed_off: Optional[bool] = None
    negative: bool = False
    fell_back: bool = False
    since: Optional[float] = None  # epoch seconds
    until: Optional[float] = None
    before: Optional[float] = None  # paging: conversations last active before this

    @classmethod
    def parse(cls, query: Any) -> "Filters":
        def flag(name: str) -> Optional[bool]:
            value = (query.get(name) or "").strip().lower()
            if value in ("", "any"):
                return None
            if value in ("1", "true", "yes", "on"):
                return True
            if value in ("0", "false", "no", "off"):
                return False
            raise BadFilter(f"'{name}' must be true or false")

        def day(name: str, end: bool = False) -> Optional[float]:
            value = (query.get(name) or "").strip()
            if not value:
                return None
            try:
                date = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            except ValueError:
                raise BadFilter(f"'{name}' must be a date like 2026-11-27") from None
            return date.timestamp() + (86400 if end else 0)

        q = (query.get("q") or "").strip()
        if len(q) > MAX_QUERY:
            raise BadFilter(f"the search text must be at most {MAX_QUERY} characters")
        channel = (query.get("channel") or "").strip()
        if channel and channel not in CHANNELS:
            raise BadFilter(f"'channel' must be one of {', '.join(CHANNELS)}")
        try:
            before = float(query["before"]) if query.get("before") else None
        except ValueError:
            raise BadFilter("'before' must be a timestamp") from None
        return cls(q, channel, flag("handed_off"), bool(flag("negative")), bool(flag("fell_back")),
                   day("from"), day("to", end=True), before)


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


SUMMARY_COLUMNS = ("c.sender_id, c.channel, c.started_at, c.last_at, c.turns, c.last_text, c.handoff_at, "
                   "c.fallbacks, c.negative, c.paused, c.handled_at, t.user_name, t.user_id")


def _summary(row: tuple) -> dict:
    keys = ("id", "channel", "started_at", "last_at", "turns", "last_text", "handoff_at", "fallbacks",
            "negative", "paused", "handled_at", "taken_by", "taken_by_id")
    item = dict(zip(keys, row))
    item["channel_label"] = CHANNEL_LABELS.get(item["channel"], item["channel"])
    item["handed_off"] = item["handoff_at"] is not None
    item["waiting"] = bool(item["handoff_at"] and not item["taken_by"]
                           and item["handoff_at"] > (item["handled_at"] or 0))
    item["paused"] = bool(item["paused"])
    return item


def conversations(db: ConsoleDB, f: Filters, limit: int = PAGE) -> list[dict]:
    where, params = [], []
    if f.q:
        terms = ["c.search LIKE ? ESCAPE '\\'", "c.sender_id = ?"]
        params += [_like(f.q.lower()), f.q]
        digits = re.sub(r"\D", "", f.q)
        if len(digits) >= 4 and re.fullmatch(r"[\d\s()+.-]+", f.q):
            terms.append("c.search LIKE ? ESCAPE '\\'")
            params.append(_like(digits))
        where.append("(" + " OR ".join(terms) + ")")
    if f.channel:
        where.append("c.channel = ?")
        params.append(f.channel)
    if f.handed_off is True:
        where.append("c.handoff_at IS NOT NULL")
    elif f.handed_off is False:
        where.append("c.handoff_at IS NULL")
    if f.negative:
        where.append("c.negative > 0")
    if f.fell_back:
        where.append("c.fallbacks > 0")
    if f.since is not None:
        where.append("c.last_at >= ?")
        params.append(f.since)
    if f.until is not None:
        where.append("c.last_at < ?")
        params.append(f.until)
    if f.before is not None:
        where.append("c.last_at < ?")
        params.append(f.before)
    sql = (f"SELECT {SUMMARY_COLUMNS} FROM console_conversations c "
           "LEFT JOIN console_takeovers t ON t.sender_id = c.sender_id "
           + ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY c.last_at DESC LIMIT ?")
    return [_summary(row) for row in db.all(sql, params + [limit])]


def summary(db: ConsoleDB, sender_id: str) -> Optional[dict]:
    row = db.one(f"SELECT {SUMMARY_COLUMNS} FROM console_conversations c "
                 "LEFT JOIN console_takeovers t ON t.sender_id = c.sender_id WHERE c.sender_id = ?", (sender_id,))
    return _summary(row) if row else None


def handoff_queue(db: ConsoleDB, limit: int = 20) -> list[dict]:
    """Hand-off requests nobody has taken yet, oldest first, with their age in seconds."""
    rows = db.all(f"SELECT {SUMMARY_COLUMNS} FROM console_conversations c "
                  "LEFT JOIN console_takeovers t ON t.sender_id = c.sender_id "
                  "WHERE c.handoff_at IS NOT NULL AND t.sender_id IS NULL "
                  "AND c.handoff_at > COALESCE(c.handled_at, 0) ORDER BY c.handoff_at LIMIT ?", (limit,))
    now = time.time()
    return [{**_summary(row), "age_s": int(now - row[6])} for row in rows]


def _turn(event_id: int, kind: str, data: str) -> Optional[dict]:
    try:
        body = json.loads(data or "{}")
    except ValueError:
        return None
    stamp = body.get("timestamp")
    base = {"event_id": event_id, "kind": kind, "at": stamp}
    if kind == "user":
        intent = (body.get("parse_data") or {}).get("intent") or {}
        return {**base, "text": body.get("text") or "", "intent": intent.get("name"),
                "confidence": intent.get("confidence"), "channel": body.get("input_channel") or ""}
    if kind == "bot":
        meta = body.get("metadata") or {}
        data_ = body.get("data") or {}
        buttons = [b.get("title") for b in (data_.get("buttons") or []) if isinstance(b, dict)]
        return {**base, "text": body.get("text") or "", "staff": meta.get("staff"), "buttons": buttons}
    if kind == "action":
        name = body.get("name")
        if name in ("action_listen", None):
            return None
        return {**base, "action": name, "confidence": body.get("confidence"), "policy": body.get("policy")}
    if kind in ("pause", "resume", "session_started", "restart"):
        return base
    return None


def transcript(db: ConsoleDB, sender_id: str, after: int = 0, limit: int = 2000) -> tuple[list[dict], int]:
    """(the conversation's turns oldest first after event id `after`, the last event id read): live updates
    ask again with that id."""
    if not db.table_exists("events"):
        return [], after
    rows = db.all("SELECT id, type_name, data FROM events WHERE sender_id = ? AND id > ? ORDER BY id LIMIT ?",
                  (sender_id, after, limit))
    turns = []
    for event_id, kind, data in rows:
        turn = _turn(event_id, kind, data)
        if turn:
            turns.append(turn)
    return turns, int(rows[-1][0]) if rows else after
