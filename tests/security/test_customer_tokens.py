"""The website's customer token is a bearer value: whoever holds it is the customer until it expires.
Rasa keeps a message's metadata in the tracker store and publishes it to RabbitMQ, so the token must
never be stored: the channel exchanges it for a proof bound to the conversation and the channel
(core/customer_proof.py). Someone who reads the tracker (the database, a backup, the event bus) and
replays what is there in a conversation of their own gets nothing of the account."""
from __future__ import annotations

import json
import time
import uuid

import requests

from actions.identity import sign_token
from tests.integration.conftest import CUSTOMER_TOKEN_SECRET
from tests.integration.stack import Commerce7View, texts
from tests.security.clients import one_turn, web_client

JORDAN = "jordan.rivera@example.com"  # 12,400 points in the emulator's seed
POINTS = "12,400"
ASK = "how many points do i have"


def jordan_token(target) -> str:
    return sign_token({"sub": Commerce7View(target).customer(JORDAN)["id"], "exp": time.time() + 600},
                      CUSTOMER_TOKEN_SECRET)


def rest(target, sender: str, message: str, metadata: dict | None = None) -> str:
    body: dict = {"sender": sender, "message": message}
    if metadata is not None:
        body["metadata"] = metadata
    response = target.post(body)
    response.raise_for_status()
    return texts(response.json())


def web(target, message: str, metadata: dict | None = None) -> tuple[str, str]:
    """(what a new socket.io chat hears, its conversation id) after one message with this metadata."""
    sio, got, confirmed = web_client(target)
    try:
        sio.emit("session_request", {"session_id": None})
        session = confirmed.get(timeout=10)
        sio.emit("user_uttered", {"message": message, "session_id": session, "metadata": metadata or {}})
        said = one_turn(got, quiet=2)
    finally:
        sio.disconnect()
    return said, session.split(".")[0]  # a signed session id is "<conversation>.<signature>"


def stored(target, conversation: str) -> dict:
    deadline = time.monotonic() + 10
    while True:  # the turn is stored right after its reply is sent
        r = requests.get(f"{target.url}/conversations/{conversation}/tracker", params={"token": target.token},
                         timeout=10)
        r.raise_for_status()
        tracker = r.json()
        if any(e["event"] == "bot" for e in tracker.get("events") or []) or time.monotonic() > deadline:
            return tracker
        time.sleep(0.2)


def kept_metadata(tracker: dict) -> dict:
    """The metadata the conversation's last customer message was stored with."""
    users = [e for e in tracker["events"] if e["event"] == "user"]
    return users[-1].get("metadata") or {}


def own() -> str:
    return f"token-{uuid.uuid4().hex[:10]}"


def test_the_token_is_never_stored_and_what_is_stored_proves_nothing_elsewhere(target):
    token, owner = jordan_token(target), own()
    assert POINTS in rest(target, owner, ASK, {"customer_token": token, "page": "/account"})
    tracker = stored(target, owner)
    everything = json.dumps(tracker)
    assert token not in everything and "customer_token" not in everything
    assert kept_metadata(tracker).get("page") == "/account"  # the rest of the metadata is kept
    assert token not in target.log_path.read_text(errors="replace")

    # What the tracker holds, replayed as it was stored, in a conversation of one's own: over REST and socket.io
    kept = kept_metadata(tracker)
    assert POINTS not in rest(target, own(), ASK, kept)
    said, _ = web(target, ASK, kept)
    assert POINTS not in said
    # The proof sent as such is never taken from a client, not even in the conversation it was made for
    proof = kept.get("customer_proof")
    assert proof
    assert POINTS not in rest(target, own(), ASK, {"customer_proof": proof})
    assert POINTS not in rest(target, owner, ASK, {"customer_proof": proof})


def test_over_socketio_the_owner_gets_the_points_and_the_token_is_not_stored(target):
    token = jordan_token(target)
    said, conversation = web(target, ASK, {"customer_token": token})
    assert POINTS in said
    tracker = stored(target, conversation)
    everything = json.dumps(tracker)
    assert token not in everything and "customer_token" not in everything
    proof = kept_metadata(tracker).get("customer_proof")
    assert proof
    # another chat, on either channel, gets nothing with it
    assert POINTS not in web(target, ASK, {"customer_proof": proof})[0]
    assert POINTS not in rest(target, own(), ASK, {"customer_proof": proof})
