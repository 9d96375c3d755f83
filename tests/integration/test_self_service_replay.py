"""A confirmed account change whose action call is replayed (nginx re-sends a call cut off by a dying
action server; Rasa retries) is written to Commerce7 once: the same call POSTed to a running action server
four times, three of them racing, and the emulator's requests counted."""
from __future__ import annotations

import time

from actions.identity import sign_token
from commerce7_demo.emulator import sid
from tests.integration.test_replayed_action_calls import action_server, call, replay, twilio  # noqa: F401 (fixtures)

PRIYA = "priya.shah@example.com"


def server_secret(url: str, data) -> str:
    """The action server's verification secret (made in its data folder the first time a proof is read)."""
    call(url, "action_check_points", "web-prime", "m-prime", "my points", "check_points", {})
    return (data / "verification_secret").read_text().strip()


def test_a_replayed_confirmation_writes_the_change_once(action_server, emulator):
    url, data = action_server
    emulator.reset()
    customer = sid("customer", PRIYA)
    [membership] = [m for m in emulator.state["clubMemberships"].values() if m["customerId"] == customer]
    assert membership["orderDeliveryMethod"] == "Ship"
    sender = "web-change-1"
    secret = server_secret(url, data)
    proof = sign_token({"sub": customer, "sid": sender, "ch": "socketio", "exp": time.time() + 600}, secret)
    plan = {"kind": "club_delivery", "customer_id": customer, "customer_email": PRIYA, "membership_id": membership["id"],
            "tier": "Jumper", "current": "Ship", "method": "Pickup", "location_id": emulator.emulator.location_id,
            "location": "the Tasting Room"}
    slots = {"change_plan": plan, "change_confirmed": True, "verified_customer": proof, "form_blocked": None}
    emulator.emulator.requests.clear()
    answers = replay(3, url, "action_account_change_done", sender, "m-change-1", "yes", "affirm", slots)
    said = [a["responses"][0]["response"] for a in answers]
    assert set(said) <= {"utter_change_done_pickup", "utter_change_queued"} and said[-1] == "utter_change_done_pickup"
    puts = [r for r in emulator.emulator.requests if r["method"] == "PUT"]
    assert len(puts) == 1, puts
    assert membership["orderDeliveryMethod"] == "Pickup"
    # a later turn asking the same is its own request (Commerce7 already has it: the PUT is the same state)
    again = call(url, "action_account_change_done", sender, "m-change-2", "yes", "affirm", slots)
    assert again["responses"][0]["response"] == "utter_change_done_pickup"


def test_a_change_for_a_customer_the_conversation_did_not_prove_is_not_made(action_server, emulator):
    url, data = action_server
    emulator.reset()
    priya, jordan = sid("customer", PRIYA), sid("customer", "jordan.rivera@example.com")
    [membership] = [m for m in emulator.state["clubMemberships"].values() if m["customerId"] == priya]
    secret = server_secret(url, data)
    sender = "web-change-2"
    proof = sign_token({"sub": jordan, "sid": sender, "ch": "socketio", "exp": time.time() + 600}, secret)
    plan = {"kind": "club_delivery", "customer_id": priya, "membership_id": membership["id"], "tier": "Jumper",
            "method": "Pickup", "location_id": emulator.emulator.location_id, "location": "the Tasting Room"}
    answer = call(url, "action_account_change_done", sender, "m-change-3", "yes", "affirm",
                  {"change_plan": plan, "change_confirmed": True, "verified_customer": proof, "form_blocked": None})
    assert answer["responses"][0]["response"] == "utter_change_need_proof"
    assert membership["orderDeliveryMethod"] == "Ship"
