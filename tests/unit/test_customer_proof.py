"""core/customer_proof.py: the channels' exchange of the website's customer token for a proof bound to one
conversation and channel. The raw token never goes on; a client's own `customer_proof` never does either."""
from __future__ import annotations

import base64
import json
import time

from core.customer_proof import exchange, proven_customer
from core.tokens import sign_token, verify_token

SECRET = "web-secret"


def token(sub="cust-1", exp_in=600.0, secret=SECRET) -> str:
    return sign_token({"sub": sub, "exp": time.time() + exp_in}, secret)


def test_a_valid_token_becomes_a_proof_for_this_conversation_and_channel_only():
    raw = token()
    out = exchange({"customer_token": raw, "page": "/shop"}, "web-1", "socketio", SECRET)
    assert set(out) == {"customer_proof", "page"} and raw not in json.dumps(out)
    assert proven_customer(out, "web-1", "socketio", SECRET) == "cust-1"
    assert proven_customer(out, "web-2", "socketio", SECRET) is None
    assert proven_customer(out, "web-1", "rest", SECRET) is None
    assert proven_customer(out, "web-1", "socketio", "another-secret") is None
    # signed under a key of its own: neither a website token nor verifiable with the website's secret
    assert verify_token(out["customer_proof"], SECRET) is None
    assert proven_customer({"customer_proof": raw}, "web-1", "socketio", SECRET) is None


def test_the_proof_expires_no_later_than_the_token():
    raw = sign_token({"sub": "cust-1", "exp": 2_000}, SECRET)
    out = exchange({"customer_token": raw}, "web-1", "rest", SECRET, now=1_000)
    assert proven_customer(out, "web-1", "rest", SECRET, now=1_999) == "cust-1"
    assert proven_customer(out, "web-1", "rest", SECRET, now=2_001) is None


def test_invalid_tokens_and_client_proofs_are_dropped():
    forged, expired = token(secret="not-the-secret"), token(exp_in=-1)
    no_subject = sign_token({"exp": time.time() + 600}, SECRET)
    deep = "e30." + base64.urlsafe_b64encode(b"[" * 3000).decode().rstrip("=") + ".e30"
    for bad in (forged, expired, no_subject, "not.a.token", deep, "\u00e9.\u00e9.\u00e9", 42, None, {"sub": "cust-1"}):
        assert exchange({"customer_token": bad, "page": "/"}, "web-1", "rest", SECRET) == {"page": "/"}
    # a client's own proof, even one the exchange made for this very conversation, is never passed on
    made = exchange({"customer_token": token()}, "web-1", "rest", SECRET)
    assert exchange({"customer_proof": made["customer_proof"]}, "web-1", "rest", SECRET) == {}
    # without a secret nothing is proven and the token still goes no further
    assert exchange({"customer_token": token()}, "web-1", "rest", "") == {}


def test_metadata_without_a_token_is_left_as_it_is():
    original = {"seq": 3}
    assert exchange(original, "web-1", "rest", SECRET) is original
    assert exchange(None, "web-1", "rest", SECRET) is None
    assert exchange("not a dict", "web-1", "rest", SECRET) == "not a dict"


def test_the_secret_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CUSTOMER_TOKEN_SECRET", SECRET)
    out = exchange({"customer_token": token()}, "web-1", "socketio")
    assert proven_customer(out, "web-1", "socketio", SECRET) == "cust-1"
