"""An SMS is marked handled only after its turn is stored: a message a crash left unfinished
(recorded on arrival, never finished) is answered when Twilio retries it, once; a finished one
is only acknowledged. Through the real webhook with signed requests and the fake Twilio API."""
from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

from channels.sms_store import LEASE_S, SmsStore
from tests.integration.test_twilio_channel import phone, replies, text  # noqa: F401 - phone is a fixture


def test_a_message_a_crash_left_unfinished_is_answered_on_twilio_retry(sms_stack, api, phone):
    store = SmsStore(f"sqlite:///{Path(sms_stack.env['MILEA_DATA_DIR']) / 'sms.db'}")
    sid = f"SM{uuid.uuid4().hex}"
    # What a process that died after the 200 (or before it) leaves: received, never done.
    assert store.receive(sid, phone, "can i bring my dog?", 0, now=time.time() - LEASE_S - 5)
    text(sms_stack, phone, "can i bring my dog?", sid=sid)  # Twilio's retry of that MessageSid
    [answer] = replies(api, phone)
    assert "leash" in answer.lower()
    deadline = time.monotonic() + 20  # marked done once the turn is stored
    while status(store, sid) != "done":
        assert time.monotonic() < deadline, "the message was never marked handled"
        time.sleep(0.2)
    text(sms_stack, phone, "can i bring my dog?", sid=sid)  # a later retry: acknowledged, not answered
    text(sms_stack, phone, "are you open right now?")  # turns of one number run in order: this comes after
    found = replies(api, phone, 2)
    assert len(found) == 2 and "PM" in found[1] and "leash" not in found[1].lower()


def status(store: SmsStore, sid: str) -> str:
    with sqlite3.connect(store.path) as db:
        row = db.execute("SELECT status FROM sms_handled WHERE sid = ?", (sid,)).fetchone()
    return row[0] if row else ""
