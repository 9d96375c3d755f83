"""No card numbers in chat: a message holding one is answered with where a card goes instead, and
nothing of it is stored (tracker store, the SMS log) or sent on, over REST, socket.io and signed SMS.
Inside the club signup form too (the form used to refuse it as a slot, after the tracker had kept it)."""
from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

from tests.integration.test_twilio_channel import replies, text as sms
from tests.security.clients import web_client
from tests.security.test_conversations import conversation, tracker_events

CARD = "4242 4242 4242 4242"
DIGITS = "4242424242424242"


def stored_anywhere(target, sender: str) -> bool:
    events = tracker_events(target, sender)
    in_tracker = any(DIGITS in str(e).replace(" ", "").replace("-", "") for e in events)
    data = Path(target.env["MILEA_DATA_DIR"])
    in_files = False
    for db in data.glob("*.db"):
        with sqlite3.connect(db) as conn:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    if DIGITS in str(row).replace(" ", "").replace("-", ""):
                        in_files = True
    return in_tracker or in_files


def test_rest_a_card_number_is_refused_and_not_kept(target):
    sender = f"card-{uuid.uuid4().hex[:8]}"
    target.post({"sender": sender, "message": "my card got declined"})
    r = target.post({"sender": sender, "message": f"here's my new card {CARD} exp 04/29"})
    assert r.status_code == 200
    said = " ".join(m.get("text", "") for m in r.json())
    assert "don't share card numbers" in said and "4242" not in said
    time.sleep(1)
    assert not stored_anywhere(target, sender)
    after = target.post({"sender": sender, "message": "what are your hours?"})  # the chat goes on
    assert "PM" in " ".join(m.get("text", "") for m in after.json())


def test_socketio_a_card_number_is_refused_and_not_kept(target):
    sio, got, confirmed = web_client(target)
    try:
        sio.emit("session_request", {"session_id": None})
        session = confirmed.get(timeout=10)
        sio.emit("user_uttered", {"message": f"card: {CARD.replace(' ', '-')}", "session_id": session})
        said = got.get(timeout=30).get("text", "")
        assert "don't share card numbers" in said and "4242" not in said
        time.sleep(1.5)
    finally:
        sio.disconnect()
    assert not stored_anywhere(target, conversation(session))


def test_sms_a_card_number_is_refused_and_not_kept(target, twilio):
    phone = "+1845555" + f"{uuid.uuid4().int % 10_000:04d}"
    sms(target, phone, f"can u update my card on file, its {DIGITS}")
    [said] = replies(twilio, phone)
    assert "share card numbers" in said and "4242" not in said
    time.sleep(1)
    assert not stored_anywhere(target, phone)
