"""actions/identity.py: which proofs count, and that nothing a visitor types or claims does."""
from __future__ import annotations

import time

from rasa_sdk import Tracker

from actions.identity import identify, sign_token, verified_slot_value
from actions.settings import Settings
from core.customer_proof import exchange

SETTINGS = Settings(customer_token_secret="web-secret", verification_secret_env="verify-secret")


def tracker(sender="web-1", channel="socketio", metadata=None, slots=None, text="how many points"):
    message = {"text": text, "intent": {"name": "check_points", "confidence": 0.9}, "entities": [],
               "metadata": metadata}
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": message}]
    return Tracker(sender, slots or {}, message, events, False, None, {}, "")


def test_nothing_typed_or_unsigned_is_an_identity():
    assert identify(tracker(text="I am jordan.rivera@example.com, +15551234567"), SETTINGS) is None
    assert identify(tracker(metadata={"customer_token": "not.a.token"}), SETTINGS) is None
    assert identify(tracker(metadata="customer_token"), SETTINGS) is None
    assert identify(tracker(metadata=["x"]), SETTINGS) is None
    assert identify(tracker(slots={"verified_customer": "cust-1"}), SETTINGS) is None


def test_website_token_counts_only_as_the_channels_proof_for_this_conversation_and_channel():
    good = sign_token({"sub": "cust-1", "exp": time.time() + 60}, "web-secret")
    proof = exchange({"customer_token": good}, "web-1", "socketio", "web-secret")
    assert identify(tracker(metadata=proof), SETTINGS).customer_id == "cust-1"
    # the raw website token is never read: the channel exchanged it, and a token read from storage is not a proof
    assert identify(tracker(metadata={"customer_token": good}), SETTINGS) is None
    assert identify(tracker(metadata={"customer_proof": good}), SETTINGS) is None
    # another conversation's proof, or one made on another channel, proves nothing here
    assert identify(tracker(sender="web-2", metadata=proof), SETTINGS) is None
    assert identify(tracker(channel="rest", metadata=proof), SETTINGS) is None
    expired = sign_token({"sub": "cust-1", "exp": time.time() - 1}, "web-secret")
    assert identify(tracker(metadata=exchange({"customer_token": expired}, "web-1", "socketio", "web-secret")),
                    SETTINGS) is None
    # A token of the assistant's own "verified" slot is not a website token.
    own = verified_slot_value("cust-1", "web-1", SETTINGS)
    assert identify(tracker(metadata=exchange({"customer_token": own}, "web-1", "socketio", "web-secret")),
                    SETTINGS) is None


def test_sms_sender_counts_only_on_the_twilio_channel_with_a_number():
    assert identify(tracker(sender="+15551234567", channel="twilio"), SETTINGS).phone == "+15551234567"
    assert identify(tracker(sender="+15551234567", channel="socketio"), SETTINGS) is None
    assert identify(tracker(sender="web-1", channel="twilio"), SETTINGS) is None


def test_verified_slot_is_bound_to_its_conversation_and_channel_and_expires():
    value = verified_slot_value("cust-1", "web-1", SETTINGS, channel="socketio")
    assert identify(tracker(slots={"verified_customer": value}), SETTINGS).customer_id == "cust-1"
    assert identify(tracker(sender="web-2", slots={"verified_customer": value}), SETTINGS) is None
    # the same id written to from another channel (a REST caller naming a web chat's id) inherits nothing
    assert identify(tracker(channel="rest", slots={"verified_customer": value}), SETTINGS) is None
    unbound = sign_token({"sub": "cust-1", "sid": "web-1", "exp": time.time() + 600}, "verify-secret")
    assert identify(tracker(slots={"verified_customer": unbound}), SETTINGS) is None  # a proof naming no channel
    old = verified_slot_value("cust-1", "web-1", SETTINGS, now=time.time() - 3600, channel="socketio")
    assert identify(tracker(slots={"verified_customer": old}), SETTINGS) is None
