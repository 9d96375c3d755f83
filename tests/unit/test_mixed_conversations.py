"""The data migration for conversations written through several channels before each had its own ids:
on a tracker store as Rasa 3.6 keeps it (table `events`), a mixed conversation loses its open form and
its slots (a stranger's turns may have set them), keeps its transcript, and nothing else changes; it
runs once."""
from __future__ import annotations

import json
import sqlite3

from core import migrations

# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent)
RASA_EVENTS = """CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def user(text: str, channel: str, at: float) -> tuple:
    return ("user", at, json.dumps({"event": "user", "timestamp": at, "text": text, "input_channel": channel,
                                    "parse_data": {"intent": {"name": "join_club"}}}))


def slot(name: str, value, at: float) -> tuple:
    return ("slot", at, json.dumps({"event": "slot", "timestamp": at, "name": name, "value": value}))


def store_before_the_upgrade(path, monkeypatch) -> None:
    """Version 8 of the project's schema (the release before) beside a tracker store with three conversations."""
    with monkeypatch.context() as before:
        before.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:8])
        assert migrations.upgrade(f"sqlite:///{path}") == list(range(1, 9))
    with sqlite3.connect(path) as db:
        db.execute(RASA_EVENTS)
        conversations = {
            # an SMS customer's thread that a web chat and a REST caller wrote into, naming the phone
            "+18455550199": [user("hi", "twilio", 1.0), slot("verified_customer", "proof-for-sms", 2.0),
                             user("join the club", "socketio", 3.0), slot("email", "them@example.com", 4.0),
                             ("active_loop", 5.0, json.dumps({"event": "active_loop", "name": "club_signup_form"})),
                             user("what are your hours", "rest", 6.0)],
            "web-visitor": [user("hello", "socketio", 1.0), slot("email", "me@example.com", 2.0)],
            "crm-42": [user("hours?", "rest", 1.0)],
        }
        for sender, events in conversations.items():
            for type_name, at, data in events:
                db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                           (sender, type_name, at, data))


def events(path, sender: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(path) as db:
        return [(t, json.loads(d)) for t, d in
                db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,))]


def test_a_mixed_conversation_loses_its_form_and_slots_and_keeps_its_transcript(tmp_path, monkeypatch):
    path = tmp_path / "tracker.db"
    store_before_the_upgrade(path, monkeypatch)
    before = {sender: events(path, sender) for sender in ("+18455550199", "web-visitor", "crm-42")}

    assert migrations.upgrade(f"sqlite:///{path}") == [9]

    mixed = events(path, "+18455550199")
    assert mixed[:len(before["+18455550199"])] == before["+18455550199"]  # the transcript stays
    added = mixed[len(before["+18455550199"]):]
    assert [(t, e.get("name", "-")) for t, e in added] == [("active_loop", None), ("reset_slots", "-")]
    assert all(e["timestamp"] >= 6.0 for _, e in added)  # after the last turn: they apply from now on
    for sender in ("web-visitor", "crm-42"):  # one channel each: untouched
        assert events(path, sender) == before[sender]

    assert migrations.upgrade(f"sqlite:///{path}") == []  # once
    assert len(events(path, "+18455550199")) == len(mixed)


def test_a_database_without_a_tracker_store_has_nothing_to_migrate(tmp_path):
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    assert 9 in migrations.upgrade(url)
    with sqlite3.connect(tmp_path / "outbox.db") as db:
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'events'").fetchone()[0] == 0
