"""verify_form's actions and the signup/points actions around it, as the action server runs them,
against the Commerce7 emulator, the fake Twilio API and a real SMTP server (aiosmtpd) on loopback."""
from __future__ import annotations

import asyncio
import email
import re
import tempfile
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import settings as settings_module
from actions import verification
from core.commerce7.outbox import Outbox
from actions.forms.club_signup import ActionSubmitClubSignup
from actions.identity import identified_customer, identify, sign_token, verified_slot_value
from core.commerce7.connection import make_client
from actions.loyalty import ActionCheckPoints
from actions.verification_form import ActionVerificationDone, ValidateVerifyForm
from tests.fakes.twilio_api import FakeTwilioApi
from scripts.ports import free_port

JORDAN_EMAIL, JORDAN_PHONE = "jordan.rivera@example.com", "+15551234567"
ENV = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_API_BASE_URL", "SMTP_HOST", "SMTP_PORT",
       "SMTP_FROM", "STAFF_PHONE", "STAFF_EMAIL", "VERIFICATION_SECRET"]


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def twilio():
    api = FakeTwilioApi("ACverify", "verify-token").start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def configure(settings, emulator, monkeypatch, twilio, smtp, tmp_path):
    """Nothing can send codes until `configure(sms=True, email=True)`; a fresh code table each test."""
    emulator.reset()
    twilio.reset()
    smtp.messages.clear()
    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OUTBOX_DB_URL", f"sqlite:///{tmp_path / 'outbox.db'}")

    def apply(sms=False, mail=False):
        if sms:
            monkeypatch.setenv("TWILIO_ACCOUNT_SID", twilio.account_sid)
            monkeypatch.setenv("TWILIO_AUTH_TOKEN", twilio.auth_token)
            monkeypatch.setenv("TWILIO_NUMBER", "+18455550199")
            monkeypatch.setenv("TWILIO_API_BASE_URL", twilio.url)
        if mail:
            monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
            monkeypatch.setenv("SMTP_PORT", str(smtp.port))
            monkeypatch.setenv("SMTP_FROM", "assistant@example.com")
        settings_module.get_settings.cache_clear()
        verification.code_store.cache_clear()
        return settings_module.get_settings()

    apply()
    yield apply
    settings_module.get_settings.cache_clear()
    verification.code_store.cache_clear()


def tracker(text="", sender="web-1", slots=None, channel="rest", metadata=None, intent="nlu_fallback"):
    message = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": [],
               "metadata": metadata or {}}
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": message}]
    return Tracker(sender, slots or {}, message, events, False, None, {}, "")


def run(coro_fn):
    async def turn():  # as the action server's loop goes on after the answer: codes are sent after it
        result = await coro_fn
        await verification.delivered()
        return result
    return asyncio.run(turn())


def texts(dispatcher: CollectingDispatcher) -> str:
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


def slots(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(slot: str, value: str, t: Tracker):
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateVerifyForm(), f"validate_{slot}")
    return await method(value, dispatcher, t, {}), texts(dispatcher)


def code_in(body: str) -> str:
    return re.search(r"\b(\d{6})\b", body).group(1)


def jordan_id(emulator) -> str:
    return next(c["id"] for c in emulator.state["customers"].values()
                if c["emails"][0]["email"] == JORDAN_EMAIL)


# ---------------------------------------------------------------- where codes go

def test_code_goes_by_sms_to_the_phone_on_the_account(configure, twilio, emulator):
    configure(sms=True)
    result, said = run(validate("verify_contact", JORDAN_EMAIL, tracker(JORDAN_EMAIL)))
    assert result["verify_target"] == jordan_id(emulator)
    assert "sent a 6-digit code to the mobile number on the account" in said
    [sms] = twilio.sent_to(JORDAN_PHONE)
    assert re.search(r"\b\d{6}\b", sms["body"]) and JORDAN_PHONE not in said


def test_code_goes_by_email_when_the_email_was_typed(configure, smtp, twilio):
    configure(sms=True, mail=True)
    _, said = run(validate("verify_contact", JORDAN_EMAIL.upper(), tracker(JORDAN_EMAIL.upper())))
    assert "the email address on the account" in said
    [message] = smtp.messages
    assert message["To"] == JORDAN_EMAIL and re.search(r"\b\d{6}\b", message.get_content())
    assert twilio.sent_to(JORDAN_PHONE) == []


def test_unknown_contact_hears_the_same_and_nothing_is_sent(configure, twilio):
    configure(sms=True)
    result, said = run(validate("verify_contact", "+1 (914) 555-0000", tracker("+1 (914) 555-0000")))
    assert "sent a 6-digit code to the mobile number on the account" in said
    assert result["verify_target"].startswith(verification.NOBODY)
    assert twilio.messages == []


def test_no_channel_means_no_code_and_the_form_ends(configure):
    configure()
    result, said = run(validate("verify_contact", JORDAN_EMAIL, tracker(JORDAN_EMAIL)))
    assert result["form_blocked"] == "unavailable" and "can't send a verification code" in said


# ---------------------------------------------------------------- codes

def send_and_read(twilio, sender="web-1"):
    result, _ = run(validate("verify_contact", JORDAN_EMAIL, tracker(JORDAN_EMAIL, sender=sender)))
    return result["verify_target"], code_in(twilio.sent_to(JORDAN_PHONE)[-1]["body"])


def test_right_code_verifies_this_conversation_only(configure, twilio, emulator):
    settings = configure(sms=True)
    target, code = send_and_read(twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    result, said = run(validate("verification_code", wrong, tracker(wrong, slots={"verify_target": target})))
    assert result == {"verification_code": None} and "doesn't match" in said and "4 more" in said
    spaced = f"{code[:3]} {code[3:]}"
    result, said = run(validate("verification_code", spaced, tracker(spaced, slots={"verify_target": target})))
    assert result["verification_code"] == verification.VERIFIED and "right code" in said
    verified = result["verified_customer"]
    assert identify(tracker(slots={"verified_customer": verified}), settings).customer_id == target
    assert identify(tracker(slots={"verified_customer": verified}, sender="web-2"), settings) is None
    expired = verified_slot_value(target, "web-1", settings, now=time.time() - settings.verified_ttl_s - 1,
                                  channel="rest")
    assert identify(tracker(slots={"verified_customer": expired}), settings) is None
    forged = sign_token({"sub": target, "sid": "web-1", "exp": time.time() + 600}, "not-the-secret")
    assert identify(tracker(slots={"verified_customer": forged}), settings) is None


def test_five_wrong_codes_end_the_form(configure, twilio):
    configure(sms=True)
    target, code = send_and_read(twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        result, _ = run(validate("verification_code", wrong, tracker(wrong, slots={"verify_target": target})))
    result, said = run(validate("verification_code", wrong, tracker(wrong, slots={"verify_target": target})))
    assert result["form_blocked"] == "locked" and "too many tries" in said
    result, _ = run(validate("verification_code", code, tracker(code, slots={"verify_target": target})))
    assert result.get("verification_code") is None


def test_resend_is_rate_limited(configure, twilio):
    configure(sms=True)
    target, _ = send_and_read(twilio)
    outcomes = []
    for _ in range(5):
        result, said = run(validate("verification_code", "I didn't get it, send a new code",
                                    tracker("new code", slots={"verify_target": target})))
        outcomes.append(result.get("form_blocked"))
    assert outcomes == [None, None, None, None, "limited"] and "several codes" in said
    assert len(twilio.sent_to(JORDAN_PHONE)) == 5


def test_the_code_message_never_reaches_the_logs(configure, twilio, caplog):
    configure(sms=True)
    caplog.set_level("DEBUG")
    _, code = send_and_read(twilio)
    assert code not in caplog.text


# ---------------------------------------------------------------- the flows around the form

def signup_slots(email_address: str, phone: str) -> dict:
    return {"club_tier": "Jumper", "first_name": "Jordan", "last_name": "Rivera", "email": email_address,
            "phone": phone, "birth_date": "1986-04-12", "delivery_method": "Pickup", "signup_confirmed": True}


def submit(t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSubmitClubSignup().run(dispatcher, t, {}))
    return events, texts(dispatcher)


def test_signup_on_an_existing_email_without_a_channel_goes_to_staff(configure, emulator, tmp_path):
    configure()
    before = emulator.state["customers"][jordan_id(emulator)].copy()
    events, said = submit(tracker("yes", slots=signup_slots(JORDAN_EMAIL, "+18455550142")))
    assert "haven't changed anything" in said and "Jumper" in said
    assert emulator.state["customers"][jordan_id(emulator)] == before
    assert Outbox(tmp_path / "outbox.db").counts() == {"refused": 1}  # listed for staff
    assert slots(events)["email"] is None


def test_signup_on_an_existing_email_sends_a_code_and_keeps_the_form(configure, emulator, twilio):
    configure(sms=True)
    before = emulator.state["customers"][jordan_id(emulator)].copy()
    events, said = submit(tracker("yes", slots=signup_slots(JORDAN_EMAIL, "+18455550142")))
    assert "already has an account" in said and "sent a 6-digit code" in said
    assert slots(events) == {"verification_needed": True, "verify_purpose": "club_signup",
                             "verify_target": jordan_id(emulator), "verify_contact": None, "verification_code": None}
    assert emulator.state["customers"][jordan_id(emulator)] == before
    assert twilio.sent_to("+18455550142") == []


def test_after_the_code_the_signup_continues_for_the_owner(configure, emulator, twilio):
    settings = configure(sms=True)
    jordan = jordan_id(emulator)
    slots_ = {**signup_slots(JORDAN_EMAIL, "+18455550142"), "verify_purpose": "club_signup", "verify_target": jordan,
              "verified_customer": verified_slot_value(jordan, "web-1", settings, channel="rest")}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionVerificationDone().run(dispatcher, tracker("123456", slots=slots_), {}))
    assert "Welcome to the Jumper club" in texts(dispatcher)
    assert slots(events)["email"] is None and slots(events)["verification_needed"] is None
    assert "+18455550142" in [p["phone"] for p in emulator.state["customers"][jordan]["phones"]]


def test_points_without_any_code_channel_say_how_to_prove_it(configure):
    configure()
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionCheckPoints().run(dispatcher, tracker("how many points", intent="check_points"), {}))
    assert "only share" in texts(dispatcher) and slots(events) == {"verification_needed": None}


def test_points_start_the_form_on_the_web_and_answer_a_single_sms_match(configure, emulator):
    configure(sms=True)

    def points(t):
        dispatcher = CollectingDispatcher()
        return asyncio.run(ActionCheckPoints().run(dispatcher, t, {})), texts(dispatcher)
    events, said = points(tracker("how many points", intent="check_points"))
    assert slots(events)["verification_needed"] is True and said == ""
    events, said = points(tracker("how many points", sender=JORDAN_PHONE, channel="twilio"))
    assert "12,400" in said
    # The same number on a second customer: nobody is identified by it any more.
    emulator.state["customers"]["twin"] = {**emulator.state["customers"][jordan_id(emulator)], "id": "twin",
                                           "emails": [{"id": "x", "email": "twin@example.com"}],
                                           "createdAt": "2030-01-01T00:00:00.000Z"}
    events, said = points(tracker("how many points", sender=JORDAN_PHONE, channel="twilio"))
    assert "12,400" not in said and slots(events)["verification_needed"] is True


def test_a_claimed_sms_channel_on_a_web_sender_proves_nothing(configure):
    settings = configure()

    async def who():
        async with make_client(settings) as client:
            return await identified_customer(tracker("points", sender="web-9", channel="twilio"), settings, client)
    assert run(who()) is None


# ---------------------------------------------------------------- hypothesis: two sessions racing

@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["right", "wrong", "other", "resend"])),
                     min_size=1, max_size=8))
def test_two_sessions_of_one_customer_each_need_their_own_code(configure, twilio, plan, monkeypatch):
    monkeypatch.setenv("OUTBOX_DB_URL", f"sqlite:///{tempfile.mkdtemp()}/codes.db")  # fresh limits per example
    configure(sms=True)
    twilio.reset()
    codes = {}
    for session in ("a", "b"):
        target, codes[session] = send_and_read(twilio, sender=session)
    verified = set()
    for session, move in plan:
        other = "b" if session == "a" else "a"
        if move == "resend":
            result, _ = run(validate("verification_code", "new code",
                                     tracker("new code", sender=session, slots={"verify_target": target})))
            if result.get("form_blocked") is None and session not in verified:
                codes[session] = code_in(twilio.sent_to(JORDAN_PHONE)[-1]["body"])
            continue
        guess = {"right": codes[session], "other": codes[other],
                 "wrong": f"{(int(codes[session]) + 1) % 1_000_000:06d}"}[move]
        result, _ = run(validate("verification_code", guess,
                                 tracker(guess, sender=session, slots={"verify_target": target})))
        if result.get("verification_code") == verification.VERIFIED:
            # Only a session's own live code works, never the other session's.
            assert guess == codes[session] and session not in verified
            verified.add(session)
        elif move == "right" and session not in verified:
            assert result.get("form_blocked") in ("locked", None)
