"""Typing an email proves nothing (issue 22, point 10): a subscribe or a club signup that creates a
Commerce7 account for a typed email must not leave the chat verified for that account. The email may
be someone else's: once its owner uses the account (orders, points, details), the chat that typed it
must still go through the one-time code like any stranger.

Two levels: a running action server called as Rasa calls it (the action calls of one conversation,
each with the slots the earlier calls set: needs no trained model), and the whole dialogue through
REST against the running assistant (`target`, tests/security/conftest.py)."""
from __future__ import annotations

import os
import time
import uuid

import pytest
import requests

from scripts.action_server import bearer_header
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.stack import Commerce7View, ROOT, action_server, texts

ACTION_TOKEN = "typed-email-test-action-token-0123456789"
# What the chat would hear about an account it holds: a balance, "no points yet", orders, a tier.
ACCOUNT_REPLIES = {"utter_points_balance", "utter_points_balance_tier", "utter_points_no_account",
                   "utter_orders_none", "utter_orders_intro"}


@pytest.fixture(scope="module")
def actions(tmp_path_factory, emulator):
    """(action server URL, emulator): codes can be sent (SMS to a fake Twilio), so the proof step starts."""
    twilio = FakeTwilioApi("ACtyped", "typed-token").start()
    data = tmp_path_factory.mktemp("typed-email")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MILEA_DATA_DIR": str(data), "MILEA_WARM_ON_START": "0",
           "C7_API_URL": emulator.url, "TWILIO_ACCOUNT_SID": twilio.account_sid,
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_NUMBER": "+18455550199",
           "TWILIO_API_BASE_URL": twilio.url, "ACTION_SERVER_TOKEN": ACTION_TOKEN,
           "VERIFICATION_SECRET": "typed-email-verification-secret-0123456789"}
    for key in ("TRACKER_DB_URL", "FEEDBACK_DB_URL", "OUTBOX_DB_URL", "STAFF_EMAIL", "SMTP_HOST", "CHROMA_URL"):
        env.pop(key, None)
    try:
        process, url = action_server(env, data)
    except RuntimeError as failed:
        twilio.stop()
        pytest.fail(str(failed))
    yield url, emulator
    process.terminate()
    process.wait(timeout=20)
    twilio.stop()


class Conversation:
    """One REST conversation's action calls, each tracker holding the slots the earlier calls set."""

    def __init__(self, url: str) -> None:
        self.url, self.sender, self.slots, self.turn = url, f"typed-{uuid.uuid4().hex[:8]}", {}, 0

    def run(self, action: str, text: str, intent: str, **slots) -> dict:
        self.slots.update(slots)
        self.turn += 1
        parse = {"intent": {"name": intent, "confidence": 0.97}, "entities": [], "text": text,
                 "message_id": f"{self.sender}-{self.turn}"}
        user = {"event": "user", "timestamp": time.time(), "text": text, "input_channel": "rest",
                "message_id": parse["message_id"], "parse_data": parse}
        tracker = {"sender_id": self.sender, "slots": dict(self.slots), "latest_message": parse, "paused": False,
                   "events": [{"event": "session_started"}, user], "latest_input_channel": "rest",
                   "active_loop": {}, "latest_action_name": "action_listen"}
        response = requests.post(f"{self.url}/webhook", headers=bearer_header(ACTION_TOKEN), timeout=60,
                                 json={"next_action": action, "sender_id": self.sender, "tracker": tracker,
                                       "domain": {}, "version": "3.6.2"})
        assert response.status_code == 200, response.text
        answer = response.json()
        for event in answer["events"]:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        return answer


def said(answer: dict) -> set:
    return {r.get("response") for r in answer["responses"]}


def assert_proof_step(answer: dict) -> None:
    """The chat is asked to prove the account (verify_form starts), nothing of the account is said."""
    slots = {e["name"]: e["value"] for e in answer["events"] if e.get("event") == "slot"}
    assert slots.get("verification_needed") is True, answer
    assert not said(answer) & ACCOUNT_REPLIES, answer


def test_a_subscription_that_creates_the_account_does_not_verify_the_chat(actions):
    url, emulator = actions
    chat = Conversation(url)
    email = f"someone.else.{uuid.uuid4().hex[:6]}@example.com"
    done = chat.run("action_submit_subscribe", "skip", "deny", email=email, first_name="-")
    assert said(done) == {"utter_subscribed"}                    # the visitor still hears they are on the list
    assert not chat.slots.get("verified_customer"), "a typed email verified the chat"
    assert_proof_step(chat.run("action_check_points", "how many points do i have", "check_points"))
    assert_proof_step(chat.run("action_my_orders", "where is my order", "ask_order_status"))


def test_a_club_signup_that_creates_the_account_does_not_verify_the_chat(actions):
    url, emulator = actions
    chat = Conversation(url)
    email = f"someone.else.{uuid.uuid4().hex[:6]}@example.com"
    done = chat.run("action_submit_club_signup", "yes", "affirm", club_tier="Jumper", first_name="Jordan",
                    last_name="Lee", email=email, phone="+18455550142", birth_date="1986-04-12",
                    delivery_method="Pickup", signup_confirmed=True)
    assert said(done) == {"utter_signup_done"}                   # the welcome stays
    assert not chat.slots.get("verified_customer"), "a typed email verified the chat"
    assert_proof_step(chat.run("action_my_orders", "where is my order", "ask_order_status"))
    assert_proof_step(chat.run("action_check_points", "how many points do i have", "check_points"))


# ---- the same through REST, against the running assistant (needs models/milea.tar.gz)

def chat(target, user, *messages) -> list[str]:
    return [texts(target.say(user, m)) for m in messages]


def test_rest_subscribe_with_a_typed_email_then_points_asks_for_the_code(target):
    user, email = f"typed-{uuid.uuid4().hex[:8]}", f"someone.else.{uuid.uuid4().hex[:6]}@example.com"
    replies = chat(target, user, "add me to your newsletter", email, "skip")
    assert "on the list" in replies[-1]
    assert Commerce7View(target).customer(email)["emailMarketingStatus"] == "Subscribed"
    asked = chat(target, user, "how many points do i have?")[0]
    assert "email address or mobile number" in asked, asked     # the proof step, as for any stranger


def test_rest_club_signup_with_a_typed_email_then_orders_asks_for_the_code(target):
    user, email = f"typed-{uuid.uuid4().hex[:8]}", f"someone.else.{uuid.uuid4().hex[:6]}@example.com"
    replies = chat(target, user, "I'd like to join the wine club", "jumper", "Jordan", "Lee", email,
                   "(845) 555-0142", "04/12/1986", "pickup", "yes")
    assert "Welcome to the Jumper club" in replies[-1], replies[-1]
    asked = chat(target, user, "where is my order?")[0]
    assert "email address or mobile number" in asked, asked
