"""Conversations written through more than one channel before each channel had its own ids.

Until then a REST caller or a web chat could name an SMS customer's phone number (or another
conversation's id) and write into that conversation. The channels now keep apart (channels/id_spaces.py,
channels/widget_sessions.py), but a conversation mixed before the upgrade may still hold what the
stranger's turns set: an open form with its read-back, slots, a verified state. This data migration
(core/migrations.py, run once per database) ends that state in every mixed conversation: an open form
is closed and every slot reset, as Rasa's own events do, appended after the last event. The transcript
stays for staff, and the conversation stays with the channel its customer wrote through first (the
console and staff replies take the channel from there).

It reads Rasa's SQL tracker store (table `events`) where the project's tables share its database:
the SQLite file of `make run`, the PostgreSQL database of the production profile. A database
without that table (a fresh install, the outbox's own file) has nothing to migrate.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterable, Optional

log = logging.getLogger(__name__)

# Rasa's serialised events for "no form is active" and "every slot back to its initial value"
_ENDINGS = (("active_loop", {"event": "active_loop", "name": None}),
            ("reset_slots", {"event": "reset_slots"}))


def _has_events_table(db: Any, conn: Any) -> bool:
    exists = ("SELECT to_regclass('events') IS NOT NULL" if db.dialect == "postgresql" else
              "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'")
    return bool(db.execute(conn, exists).fetchone()[0])


def _channel(data: Optional[str]) -> Optional[str]:
    try:
        event = json.loads(data or "")
    except ValueError:
        return None
    return event.get("input_channel") if isinstance(event, dict) else None


def mixed(rows: Iterable[tuple[str, Optional[str]]]) -> list[str]:
    """The conversations among (sender_id, user event data) rows with customer turns from more than one channel."""
    channels: dict[str, set[str]] = {}
    for sender_id, data in rows:
        channel = _channel(data)
        if channel:
            channels.setdefault(sender_id, set()).add(channel)
    return sorted(sender for sender, seen in channels.items() if len(seen) > 1)


def reset_mixed_conversations(db: Any, conn: Any) -> int:
    """Append the end of every form and slot to each mixed conversation; returns how many there were.

    Args:
        db: core.database.Database of the tracker store's database.
        conn: its open connection, inside the migration's transaction.
    """
    if not _has_events_table(db, conn):
        return 0
    rows = db.execute(conn, "SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id").fetchall()
    senders = mixed(rows)
    now = time.time()
    for sender_id in senders:
        for type_name, event in _ENDINGS:
            db.execute(conn, "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                       (sender_id, type_name, now, json.dumps({**event, "timestamp": now})))
    if senders:
        log.warning("%d conversation(s) written through more than one channel: their forms and slots were reset",
                    len(senders))
    return len(senders)
