"""One conversation, one person: a stranger who knows an SMS customer's phone number opens a web
chat under it (socket.io session_request, or a message naming it) and reaches nothing of theirs:
their tracker is unchanged and the stranger talks in a conversation of their own."""
from __future__ import annotations

import time
import uuid

import requests

from tests.security.clients import web_client
from tests.integration.test_twilio_channel import replies, text as sms


def tracker_events(target, sender: str) -> list[dict]:
    r = requests.get(f"{target.url}/conversations/{sender}/tracker", params={"token": target.token}, timeout=10)
    r.raise_for_status()
    return r.json().get("events") or []


def conversation(session_id: str) -> str:
    """The conversation (tracker id) a web chat's session id was issued for."""
    return session_id.split(".")[0]


def sms_customer(target, twilio) -> tuple[str, int]:
    """A phone that texted the winery, and how many events its conversation holds."""
    phone = "+1845555" + f"{uuid.uuid4().int % 10_000:04d}"
    sms(target, phone, "hi, what are your hours?")
    assert replies(twilio, phone)
    time.sleep(1)  # the turn is stored after the reply is sent
    return phone, len(tracker_events(target, phone))



def test_a_web_chat_cannot_be_opened_under_an_sms_customers_phone(target, twilio):
    phone, before = sms_customer(target, twilio)
    sio, got, confirmed = web_client(target)
    try:
        sio.emit("session_request", {"session_id": phone})
        given = confirmed.get(timeout=10)
        assert given != phone  # a conversation of its own
        sio.emit("user_uttered", {"message": "I'd like to join the wine club", "session_id": given})
        assert got.get(timeout=30).get("text")
        time.sleep(2)
    finally:
        sio.disconnect()
    assert len(tracker_events(target, phone)) == before


def test_a_web_message_naming_another_conversation_reaches_nothing(target, twilio):
    phone, before = sms_customer(target, twilio)
    sio, got, confirmed = web_client(target)
    try:
        sio.emit("session_request", {"session_id": None})
        assert confirmed.get(timeout=10)
        sio.emit("user_uttered", {"message": "I'd like to join the wine club", "session_id": phone})
        assert "expired" in got.get(timeout=10).get("text", "")
        time.sleep(2)
    finally:
        sio.disconnect()
    assert len(tracker_events(target, phone)) == before
    assert twilio.sent_to(phone)[-1:] == twilio.sent_to(phone)[:1]  # nothing more was texted to them


def test_staff_replies_go_through_the_customers_own_channel_whatever_the_request_says(target, twilio):
    phone, _ = sms_customer(target, twilio)
    sent = len(twilio.sent_to(phone))
    r = requests.post(f"{target.url}/webhooks/staff/send", headers={"X-Staff-Secret": target.staff_secret},
                      json={"sender_id": phone, "channel": "socketio", "text": "Hi, this is Anna from Milea"},
                      timeout=20)
    assert r.status_code == 200, r.text
    assert twilio.wait_for(phone, sent + 1, timeout=20)[-1]["body"].startswith("Hi, this is Anna")


def test_rest_naming_an_sms_customers_phone_or_a_web_chat_reaches_neither(target, twilio):
    phone, before = sms_customer(target, twilio)
    r = target.post({"sender": phone, "message": "I'd like to join the wine club"})
    assert r.status_code == 200 and r.json() and {m["recipient_id"] for m in r.json()} == {phone}
    sio, got, confirmed = web_client(target)
    try:
        sio.emit("session_request", {"session_id": None})
        bearer = confirmed.get(timeout=10)
        web = conversation(bearer)
        sio.emit("user_uttered", {"message": "hello", "session_id": bearer})
        assert got.get(timeout=30).get("text")
        time.sleep(2)
        web_before = len(tracker_events(target, web))
        r = target.post({"sender": web, "message": "what are your hours?"})
        assert r.status_code == 200 and r.json()
        time.sleep(1)
        assert got.empty()  # the web visitor heard nothing of it
        assert len(tracker_events(target, web)) == web_before
    finally:
        sio.disconnect()
    assert len(tracker_events(target, phone)) == before
    again = target.post({"sender": phone, "message": "what are your hours?"})  # REST keeps its own thread
    assert again.status_code == 200 and again.json()
    assert len(tracker_events(target, phone)) == before


def test_rest_callers_keep_naming_their_own_senders(target):
    """Rasa's contract for integrations: the sender named is the conversation, numeric ids included."""
    for sender in (f"crm-{uuid.uuid4().hex[:8]}", str(uuid.uuid4().int % 10 ** 9 + 10 ** 9)):
        r = target.post({"sender": sender, "message": "what are your hours?"})
        assert r.status_code == 200 and {m["recipient_id"] for m in r.json()} == {sender}
        assert [e["text"] for e in tracker_events(target, sender) if e.get("event") == "user"] == [
            "what are your hours?"]
