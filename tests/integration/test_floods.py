"""Floods through the real channels of a running assistant with low limits (3 messages per
sender, 6 per client address): the message over the limit gets a reply the customer reads and
never reaches the assistant; SMS senders get that reply once, not per message. Clients behind
our proxy are told apart by the address it forwards, and a client elsewhere cannot choose one.
The same stack shows the action server refusing calls that do not come from its Rasa server."""
from __future__ import annotations

import queue
import random
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio

from channels.guard import LIMITED_TEXT
from channels.sms_store import SmsStore
from tests.integration.conftest import NUMBER, SID, TOKEN
from tests.integration.stack import Stack
from tests.integration.test_twilio_channel import params_for, post_signed, replies

PER_SENDER, PER_ADDRESS = 3, 6


@pytest.fixture(scope="module")
def flood_stack(api, tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("flood-stack"), {
        "RATE_LIMIT_PER_SENDER": str(PER_SENDER), "RATE_LIMIT_PER_ADDRESS": str(PER_ADDRESS),
        "RATE_LIMIT_WINDOW_S": "86400",  # one window for the whole test run
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER,
        "TWILIO_API_BASE_URL": api.url,
    })
    # the warm-up message must not use up an address's allowance
    running._warm = lambda: bool(running.post({"sender": "warmup", "message": "hi"},
                                              headers={"X-Real-IP": "192.0.2.200"}).ok)
    running.start()
    yield running
    running.stop()


def client_ip() -> str:
    """A documentation address standing for one visitor behind our proxy."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def user_turns(stack: Stack, sender: str) -> int:
    tracker = requests.get(f"{stack.url}/conversations/{sender}/tracker", params={"token": stack.token},
                           timeout=10).json()
    return sum(1 for event in tracker.get("events", []) if event.get("event") == "user")


def test_a_sender_over_the_limit_gets_a_readable_429_and_the_assistant_never_sees_it(flood_stack):
    sender, ip = f"flood-{uuid.uuid4().hex[:8]}", client_ip()
    for _ in range(PER_SENDER):
        answered = flood_stack.post({"sender": sender, "message": "hi"}, headers={"X-Real-IP": ip})
        assert answered.status_code == 200 and answered.json(), answered.text
    limited = flood_stack.post({"sender": sender, "message": "what are your hours?"}, headers={"X-Real-IP": ip})
    assert limited.status_code == 429
    assert limited.json() == [{"recipient_id": sender, "text": LIMITED_TEXT}]
    assert 0 < int(limited.headers["Retry-After"]) <= 86400
    assert user_turns(flood_stack, sender) == PER_SENDER
    # a new name from the same visitor still counts against the visitor's address only
    other = flood_stack.post({"sender": f"{sender}-b", "message": "hi"}, headers={"X-Real-IP": ip})
    assert other.status_code == 200


def test_many_senders_from_one_address_are_limited_by_address(flood_stack):
    ip = client_ip()
    for i in range(PER_ADDRESS):
        assert flood_stack.post({"sender": f"rot-{uuid.uuid4().hex[:8]}", "message": "hi"},
                                headers={"X-Real-IP": ip}).status_code == 200
    sender = f"rot-{uuid.uuid4().hex[:8]}"
    limited = flood_stack.post({"sender": sender, "message": "hi"}, headers={"X-Real-IP": ip})
    assert limited.status_code == 429 and limited.json()[0]["text"] == LIMITED_TEXT
    assert user_turns(flood_stack, sender) == 0
    assert flood_stack.post({"sender": sender, "message": "hi"}, headers={"X-Real-IP": client_ip()}).status_code == 200


def machine_address() -> str | None:
    """This machine's non-loopback address (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_a_client_that_is_not_our_proxy_cannot_choose_its_address(flood_stack):
    address = machine_address()
    if address is None:
        pytest.skip("no non-loopback address to connect from")
    url = f"http://{address}:{flood_stack.rasa_port}/webhooks/rest/webhook"
    spoofed = [{"X-Real-IP": client_ip(), "X-Forwarded-For": client_ip()} for _ in range(PER_ADDRESS + 1)]
    statuses = [requests.post(url, json={"sender": f"spoof-{uuid.uuid4().hex[:8]}", "message": "hi"},
                              headers=headers, timeout=30).status_code for headers in spoofed]
    assert statuses == [200] * PER_ADDRESS + [429]


def test_socketio_sender_over_the_limit_is_told_so(flood_stack):
    sio = socketio.Client(reconnection=False)
    received: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("bot_uttered", received.put)
    sio.on("session_confirm", confirmed.put)
    sio.connect(flood_stack.url, socketio_path="/socket.io", transports=["websocket"],
                headers={"X-Real-IP": client_ip()})
    try:
        sio.emit("session_request", {"session_id": None})
        session = confirmed.get(timeout=10)
        for _ in range(PER_SENDER):
            sio.emit("user_uttered", {"message": "hi", "session_id": session})
            assert received.get(timeout=30).get("text") != LIMITED_TEXT
            while True:  # the rest of that turn
                try:
                    received.get(timeout=1.5)
                except queue.Empty:
                    break
        sio.emit("user_uttered", {"message": "what are your hours?", "session_id": session})
        assert received.get(timeout=30).get("text") == LIMITED_TEXT
        assert user_turns(flood_stack, session.split(".")[0]) == PER_SENDER  # the conversation: the id's first part
    finally:
        sio.disconnect()


def test_an_sms_sender_over_the_limit_gets_one_notice_not_one_per_message(flood_stack, api):
    phone = "+1555" + "".join(random.choices("0123456789", k=7))
    for n in range(1, PER_SENDER + 1):
        response = post_signed(flood_stack, params_for(phone, "are you open today?"))
        assert response.status_code == 200 and response.text.endswith("<Response/>")
        replies(api, phone, n)  # each answered by SMS before the next, like a person texting
    notice = post_signed(flood_stack, params_for(phone, "hello?"))
    assert notice.status_code == 200 and notice.headers["content-type"].startswith("text/xml")
    assert f"<Message>{LIMITED_TEXT}</Message>" in notice.text
    for _ in range(3):
        again = post_signed(flood_stack, params_for(phone, "hello??"))
        assert again.status_code == 200 and again.text.endswith("<Response/>")
    stop_and_settle(flood_stack, phone)  # nothing more goes out by the REST API either
    assert len(api.sent_to(phone)) == PER_SENDER
    assert user_turns(flood_stack, phone) == PER_SENDER


def stop_and_settle(stack: Stack, phone: str, timeout: float = 30.0) -> None:
    """Text STOP and wait until the stack has recorded the opt-out. STOP passes the flood limit and one
    number's messages are handled in order, so once it is recorded nothing earlier is still on its way."""
    response = post_signed(stack, params_for(phone, "STOP"))
    assert response.status_code == 200 and response.text.endswith("<Response/>"), response.text
    store = SmsStore(Path(stack.env["MILEA_DATA_DIR"]) / "sms.db")
    deadline = time.monotonic() + timeout
    while not store.opted_out(phone):
        assert time.monotonic() < deadline, f"STOP from a limited sender was not recorded in {timeout}s"
        time.sleep(0.2)


def test_stop_from_a_limited_sms_sender_still_opts_out(flood_stack, api):
    phone = "+1555" + "".join(random.choices("0123456789", k=7))
    for n in range(1, PER_SENDER + 1):
        assert post_signed(flood_stack, params_for(phone, "are you open today?")).status_code == 200
        replies(api, phone, n)
    # STOP is the first message over the limit: no "too many messages" notice, and the opt-out is kept
    stop_and_settle(flood_stack, phone)
    # the notice is not sent afterwards either: an opted-out number gets nothing
    after = post_signed(flood_stack, params_for(phone, "hello?"))
    assert after.status_code == 200 and after.text.endswith("<Response/>"), after.text
    assert len(api.sent_to(phone)) == PER_SENDER
    assert user_turns(flood_stack, phone) == PER_SENDER  # STOP never reached the assistant


def test_the_action_server_of_the_stack_refuses_calls_that_do_not_come_from_rasa(flood_stack):
    call = {"next_action": "action_check_points", "sender_id": "+15551234567", "version": "3.6.2", "domain": {},
            "tracker": {"sender_id": "+15551234567", "slots": {}, "latest_message": {}, "events": [],
                        "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}
    url = f"http://127.0.0.1:{flood_stack.action_port}/webhook"
    assert requests.post(url, json=call, timeout=10).status_code == 401
    assert requests.post(url, json=call, headers={"Authorization": "Bearer guess"}, timeout=10).status_code == 401
    # while Rasa, which has the token, runs its actions: the stack answers a question that needs one
    answer = flood_stack.post({"sender": f"act-{uuid.uuid4().hex[:8]}", "message": "can i bring my dog?"},
                              headers={"X-Real-IP": client_ip()})
    assert answer.status_code == 200 and "leash" in answer.text.lower()
    # and the action server is not reachable from outside the machine
    address = machine_address()
    if address:
        with pytest.raises(requests.ConnectionError):
            requests.post(f"http://{address}:{flood_stack.action_port}/webhook", json=call, timeout=5)
