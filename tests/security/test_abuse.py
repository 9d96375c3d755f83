"""Abuse and cost, played against the running assistant: oversized REST metadata, one socket.io
connection listening to many conversations, a vote flood, SMS pumping from (and staff sends to)
numbers abroad, and a foreign number taken for a US customer's."""
from __future__ import annotations

import time
import uuid

import requests

from tests.integration.stack import Commerce7View, texts
from tests.security.clients import web_client
from tests.integration.test_twilio_channel import replies, text as sms

JORDAN_EMAIL = "jordan.rivera@example.com"  # 12,400 points in the emulator's seed


def tracker_events(target, sender: str) -> list[dict]:
    r = requests.get(f"{target.url}/conversations/{sender}/tracker", params={"token": target.token}, timeout=10)
    r.raise_for_status()
    return r.json().get("events") or []


def user_texts(target, sender: str) -> list[str]:
    return [e.get("text") for e in tracker_events(target, sender) if e.get("event") == "user"]


# ---------------------------------------------------------------- REST

def test_rest_metadata_over_the_limit_is_a_clear_413_and_stores_nothing(target):
    sender = f"sec-{uuid.uuid4().hex[:8]}"
    big = {"note": "x" * 100_000}
    r = target.post({"sender": sender, "message": "hello", "metadata": big})
    assert r.status_code == 413 and "metadata" in r.json()["error"]
    wide = {f"k{n}": n for n in range(2000)}  # many small keys, same bytes
    assert target.post({"sender": sender, "message": "hello", "metadata": wide}).status_code == 413
    assert user_texts(target, sender) == []
    ok = target.post({"sender": sender, "message": "hello", "metadata": {"source": "integration", "lang": "en"}})
    assert ok.status_code == 200 and ok.json()


# ---------------------------------------------------------------- socket.io


def test_one_socketio_connection_is_in_one_conversation_at_a_time(target):
    """A session_request per room used to keep one connection in all of them, hearing every reply."""
    spy, overheard, spy_confirmed = web_client(target)
    victim, answers, victim_confirmed = web_client(target)
    try:
        victim.emit("session_request", {"session_id": None})
        theirs = victim_confirmed.get(timeout=10)
        for room in [theirs] * 2 + [None] * 30:  # the victim's own session id, as if it had leaked
            spy.emit("session_request", {"session_id": room})
        spy.emit("disconnect", {})  # an event by that name, sent by the client: the connection stays
        confirmations = [spy_confirmed.get(timeout=10) for _ in range(32)]
        spy.emit("session_request", {"session_id": confirmations[-1]})  # the room it is in from now on
        mine = spy_confirmed.get(timeout=10)
        assert mine == confirmations[-1] and confirmations[0] == theirs
        victim.emit("user_uttered", {"message": "can i bring my dog?", "session_id": theirs})
        assert "leash" in answers.get(timeout=30).get("text", "").lower()
        time.sleep(2)  # the rest of the victim's turn
        assert overheard.empty()
        spy.emit("user_uttered", {"message": "can i bring my dog?", "session_id": mine})
        assert "leash" in overheard.get(timeout=30).get("text", "").lower()  # its own room still works
    finally:
        spy.disconnect()
        victim.disconnect()


# ---------------------------------------------------------------- votes

def test_a_vote_flood_is_throttled(target):
    url = f"{target.url}/webhooks/socketio/feedback"
    vote = {"conversation_id": uuid.uuid4().hex, "vote": "down", "answer_text": "We open at 11."}
    statuses = [requests.post(url, json=vote, timeout=10).status_code for _ in range(45)]
    assert statuses[:5] == [204] * 5
    assert statuses.count(204) <= 30 + 30  # the limit, even across a minute's end
    assert statuses[-1] == 429


# ---------------------------------------------------------------- SMS pumping

def test_sms_from_a_country_the_winery_does_not_serve_is_not_answered(target, twilio):
    jamaica, uk = "+18762345678", "+447700900123"
    for number in (jamaica, uk):
        sms(target, number, "what are your hours?")
    us = "+1845555" + f"{uuid.uuid4().int % 10_000:04d}"
    sms(target, us, "what are your hours?")
    assert replies(twilio, us)  # the assistant was answering meanwhile
    time.sleep(3)
    for number in (jamaica, uk):
        assert twilio.sent_to(number) == []
        assert user_texts(target, number) == []  # not even run through the assistant


def test_staff_sends_no_sms_to_a_country_outside_the_allow_list(target, twilio):
    jamaica = "+18762345679"
    # an SMS conversation from before the allow-list (written through Rasa's own API, as an operator can)
    event = {"event": "user", "text": "hello", "input_channel": "twilio", "timestamp": time.time(),
             "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": [], "text": "hello"}}
    requests.post(f"{target.url}/conversations/{jamaica}/tracker/events", params={"token": target.token},
                  json=event, timeout=20).raise_for_status()
    r = requests.post(f"{target.url}/webhooks/staff/send", headers={"X-Staff-Secret": target.staff_secret},
                      json={"sender_id": jamaica, "channel": "twilio", "text": "Hi from the winery"}, timeout=20)
    assert r.status_code == 409 and "SMS_ALLOWED_COUNTRIES" in r.json()["error"]
    assert twilio.sent_to(jamaica) == []


# ---------------------------------------------------------------- phone numbers

def test_a_seychelles_number_is_not_the_us_customer_with_the_same_digits(target, twilio):
    """+248 555 0199 is the Seychelles; digit rules read it as (248) 555-0199 in Michigan."""
    c7 = Commerce7View(target)
    jordan = c7.customer(JORDAN_EMAIL)
    phones = [p["phone"] for p in jordan["phones"]] + ["+12485550199"]
    c7.session.put(f"{c7.base}/v1/customer/{jordan['id']}", json={"phones": [{"phone": p} for p in phones]},
                   timeout=10).raise_for_status()
    seychelles = "+2485550199"
    sms(target, seychelles, "how many points do i have?")
    [reply] = replies(twilio, seychelles)
    assert "12,400" not in reply and "email address or mobile number" in reply
    us = "+12485550199"
    sms(target, us, "how many points do i have?")
    assert "12,400" in replies(twilio, us)[-1]  # the real owner of that US number still gets it
    assert texts(target.say(f"web-{uuid.uuid4().hex[:6]}", "hello"))  # and the assistant is fine
