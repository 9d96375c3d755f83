"""Account takeover attempts through the real channels (REST, socket.io, signed Twilio
requests), and the one-time code that lets the real owner in. Commerce7 (the emulator) is read
back over its API: nothing may be written for, or told to, someone who has not proven who they are.

`stack` has no SMS or email configured (no code can be sent: a signup on an existing email goes
to staff); `sms_stack` sends codes by SMS to the fake Twilio API, where the test reads them."""
from __future__ import annotations

import queue
import re
import uuid

import socketio

from tests.integration.stack import Commerce7View, texts
from tests.integration.test_twilio_channel import replies as sms_replies, text as sms
from tests.security.clients import one_turn

JORDAN_EMAIL, JORDAN_PHONE = "jordan.rivera@example.com", "+15551234567"
# What a stranger must never see about Jordan (seed: 12,400 points, Grand Prix, active member).
SECRETS = ("12,400", "12400", "Grand Prix tier", "already an active", "1234567", "123-4567")


def new_user() -> str:
    return f"id-{uuid.uuid4().hex[:8]}"


def chat(stack, user, *messages) -> list[str]:
    return [texts(stack.say(user, m)) for m in messages]


def own_phone() -> str:
    return "(845) 555-" + f"{uuid.uuid4().int % 10_000:04d}"


def snapshot(c7: Commerce7View, email: str) -> tuple:
    customer = c7.customer(email)
    return customer, c7.memberships(customer["id"]), c7.get(f"customer/{customer['id']}/address")


def signup_with(stack, user, email, phone) -> list[str]:
    return chat(stack, user, "I'd like to join the wine club", "jumper", "Jordan", "Rivera", email, phone,
                "04/12/1986", "pickup", "yes")


def assert_nothing_leaked(replies) -> None:
    said = " ".join(replies)
    for secret in SECRETS:
        assert secret not in said, f"{secret!r} leaked in: {said}"


def latest_code(api, number: str, count: int) -> str:
    bodies = [m["body"] for m in api.wait_for(number, count, 30)]
    assert len(bodies) >= count, f"no code SMS to {number}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


# ---------------------------------------------------------------- attack 1: takeover by signup

def test_rest_signup_with_a_strangers_email_writes_nothing_and_tells_nothing(stack):
    c7 = Commerce7View(stack)
    before = snapshot(c7, JORDAN_EMAIL)
    replies = signup_with(stack, new_user(), JORDAN_EMAIL, own_phone())
    assert "already has an account" in replies[-1] and "haven't changed anything" in replies[-1]
    assert "Welcome" not in replies[-1]
    assert_nothing_leaked(replies)
    assert snapshot(c7, JORDAN_EMAIL) == before


def test_socketio_signup_with_a_strangers_email_writes_nothing(stack):
    c7 = Commerce7View(stack)
    before = snapshot(c7, JORDAN_EMAIL)
    sio = socketio.Client(reconnection=False)
    replies: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("bot_uttered", lambda data: replies.put(data))
    sio.on("session_confirm", lambda sid: confirmed.put(sid))
    sio.connect(stack.url, socketio_path="/socket.io", transports=["websocket"])
    try:
        sio.emit("session_request", {"session_id": None})
        session = confirmed.get(timeout=10)
        said = []
        for message in ("join the wine club", "jumper", "Jordan", "Rivera", JORDAN_EMAIL, own_phone(),
                        "04/12/1986", "pickup", "yes"):
            sio.emit("user_uttered", {"message": message, "session_id": session})
            said.append(one_turn(replies, quiet=1.5))
    finally:
        sio.disconnect()
    assert "already has an account" in said[-1]
    assert_nothing_leaked(said)
    assert snapshot(c7, JORDAN_EMAIL) == before


def test_sms_from_a_phone_typed_in_a_signup_gets_no_balance(sms_stack, api):
    c7 = Commerce7View(sms_stack)
    before = snapshot(c7, JORDAN_EMAIL)
    attacker = "+1845555" + f"{uuid.uuid4().int % 10_000:04d}"
    replies = signup_with(sms_stack, new_user(), JORDAN_EMAIL, attacker)
    assert "sent a 6-digit code" in replies[-1]  # to Jordan's phone, not the attacker's
    assert api.sent_to(attacker) == []
    assert snapshot(c7, JORDAN_EMAIL) == before
    sms(sms_stack, attacker, "how many points do i have?")
    [reply] = sms_replies(api, attacker)
    assert "12,400" not in reply and "email address or mobile number" in reply


def test_a_stranger_cannot_subscribe_or_learn_the_subscription_of_an_existing_email(stack):
    c7 = Commerce7View(stack)
    sam = c7.customer("sam.whitaker@example.com")   # unsubscribed in the seed
    replies = chat(stack, new_user(), "add me to your newsletter", "sam.whitaker@example.com", "skip")
    assert "If that address isn't on our mailing list yet" in replies[-1]
    assert c7.customer("sam.whitaker@example.com")["emailMarketingStatus"] == sam["emailMarketingStatus"] \
        == "Unsubscribed"
    jordan = chat(stack, new_user(), "subscribe me to the mailing list", JORDAN_EMAIL, "skip")
    assert jordan[-1] == replies[-1]   # subscribed or not: the same words


# ---------------------------------------------------------------- the owner proves it with a code

def test_points_on_the_web_after_a_code_sent_to_the_phone_on_the_account(sms_stack, api):
    user = new_user()
    asked = chat(sms_stack, user, "how many points do i have")[0]
    assert "email address or mobile number" in asked and "12,400" not in asked
    already = len(api.sent_to(JORDAN_PHONE))
    sent = chat(sms_stack, user, JORDAN_EMAIL)[0]
    assert "sent a 6-digit code" in sent and "the mobile number on the account" in sent
    code = latest_code(api, JORDAN_PHONE, already + 1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "doesn't match" in chat(sms_stack, user, wrong)[0]
    # Another conversation cannot use this conversation's code.
    thief = new_user()
    chat(sms_stack, thief, "check my points", JORDAN_EMAIL)
    assert "12,400" not in " ".join(chat(sms_stack, thief, code))
    done = chat(sms_stack, user, code)[0]
    assert "12,400" in done
    # Remembered for the conversation: no second code.
    assert "12,400" in chat(sms_stack, user, "what's my points balance")[0]


def test_unknown_email_hears_the_same_and_no_code_matches(sms_stack, api):
    user = new_user()
    chat(sms_stack, user, "check my milea miles")
    sent = chat(sms_stack, user, f"nobody.{uuid.uuid4().hex[:6]}@example.com")[0]
    assert "sent a 6-digit code" in sent
    assert "doesn't match" in chat(sms_stack, user, "123456")[0]


def test_signup_on_an_existing_email_continues_only_after_the_code(sms_stack, api):
    c7 = Commerce7View(sms_stack)
    user = new_user()
    already = len(api.sent_to(JORDAN_PHONE))
    replies = chat(sms_stack, user, "I'd like to join the wine club", "grand prix", "Jordan", "Rivera", JORDAN_EMAIL,
                   "(845) 555-0142", "04/12/1986", "pickup", "yes")
    assert "sent a 6-digit code" in replies[-1]
    assert_nothing_leaked(replies)
    code = latest_code(api, JORDAN_PHONE, already + 1)
    done = chat(sms_stack, user, code)
    # Now, and only now, Jordan hears that the membership exists.
    assert "already an active Grand Prix member" in done[0]
    assert len(c7.memberships(c7.customer(JORDAN_EMAIL)["id"])) == 1


def test_sms_sender_on_exactly_one_account_gets_the_balance(sms_stack, api):
    already = len(api.sent_to(JORDAN_PHONE))
    sms(sms_stack, JORDAN_PHONE, "how many points do i have?")
    reply = [m["body"] for m in api.wait_for(JORDAN_PHONE, already + 1, 30)][-1]
    assert "12,400" in reply


def test_never_mind_during_verification_stops_and_shows_nothing(sms_stack):
    user = new_user()
    chat(sms_stack, user, "how many points do i have")
    reply = chat(sms_stack, user, "never mind")[0]
    assert "stopped" in reply and "12,400" not in reply
    assert "virtual assistant" in chat(sms_stack, user, "hello")[0]
