"""An action call replayed (nginx re-sends a call cut off by a dying action server; Rasa retries)
writes nothing twice: direct POSTs to a running action server's /webhook, the same call sent
again and at once, checked in the feedback table and at the fake Twilio API the staff SMS goes to."""
from __future__ import annotations

import os
import threading
import time

import pytest
import requests

from core.feedback_store import FeedbackStore
from tests.fakes.twilio_api import FakeTwilioApi
from scripts.action_server import bearer_header
from tests.integration.stack import action_server as action_server_process

from core.paths import ROOT
STAFF_PHONE = "+18455550100"
ACTION_TOKEN = "replay-test-action-token"


@pytest.fixture(scope="module")
def twilio():
    api = FakeTwilioApi("ACstaff", "staff-token").start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def action_server(tmp_path_factory, twilio, emulator):
    data = tmp_path_factory.mktemp("actions-data")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MILEA_DATA_DIR": str(data), "MILEA_WARM_ON_START": "0",
           "C7_API_URL": emulator.url, "STAFF_PHONE": STAFF_PHONE, "TWILIO_ACCOUNT_SID": twilio.account_sid,
           "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_NUMBER": "+18455550199",
           "TWILIO_API_BASE_URL": twilio.url, "MILEA_NOW": "2026-11-25T14:00:00-05:00",
           "ACTION_SERVER_TOKEN": ACTION_TOKEN}
    for key in ("TRACKER_DB_URL", "FEEDBACK_DB_URL", "STAFF_EMAIL", "SMTP_HOST"):
        env.pop(key, None)
    try:
        process, url = action_server_process(env, data)
    except RuntimeError as failed:
        pytest.fail(str(failed))
    yield url, data
    process.terminate()
    process.wait(timeout=20)


def call(url: str, action: str, sender: str, message_id: str, text: str, intent: str, slots: dict) -> dict:
    user = {"event": "user", "timestamp": 1796000000.0 + len(message_id), "text": text, "input_channel": "socketio",
            "message_id": message_id,
            "parse_data": {"intent": {"name": intent, "confidence": 0.97}, "entities": [], "text": text,
                           "message_id": message_id}}
    tracker = {"sender_id": sender, "slots": slots, "latest_message": user["parse_data"], "paused": False,
               "events": [{"event": "session_started"}, {"event": "bot", "text": "We're open 12 to 5 today."}, user],
               "latest_input_channel": "socketio", "active_loop": {}, "latest_action_name": "action_listen"}
    response = requests.post(f"{url}/webhook", json={"next_action": action, "sender_id": sender, "tracker": tracker,
                                                     "domain": {}, "version": "3.6.2"}, timeout=30,
                             headers=bearer_header(ACTION_TOKEN))
    assert response.status_code == 200, response.text
    return response.json()


def replay(times: int, *args) -> list:
    """The same call sent `times` times at once (racing) and once more afterwards (a late replay)."""
    answers: list = []
    threads = [threading.Thread(target=lambda: answers.append(call(*args))) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    answers.append(call(*args))
    return answers


def test_a_replayed_feedback_submission_stores_one_row_per_turn(action_server):
    url, data = action_server
    slots = {"rating": 2, "feedback_comment": "The tasting room was too cold", "form_blocked": None}
    answers = replay(3, url, "action_submit_feedback", "web-fb-1", "m-fb-1", "skip", "deny", slots)
    assert len(answers) == 4 and all(a["responses"] for a in answers)  # every call is answered alike
    rows = [r for r in FeedbackStore(f"sqlite:///{data / 'tracker.db'}").all() if r.conversation_id == "web-fb-1"]
    assert [(r.rating, r.comment, r.turn_key) for r in rows] == [(2, "The tasting room was too cold", "m-fb-1")]
    call(url, "action_submit_feedback", "web-fb-1", "m-fb-2", "5", "inform", {**slots, "rating": 5,
                                                                             "feedback_comment": "skip"})
    rows = [r for r in FeedbackStore(f"sqlite:///{data / 'tracker.db'}").all() if r.conversation_id == "web-fb-1"]
    assert [r.rating for r in rows] == [2, 5]  # a later turn is its own row


def test_a_replayed_handoff_tells_the_staff_once(action_server, twilio):
    url, _ = action_server
    twilio.reset()
    answers = replay(3, url, "action_handoff", "web-ho-1", "m-ho-1", "can i talk to a person", "human_handoff", {})
    # each call says the staff know: the response Rasa words as "...will get back to you shortly"
    assert all(a["responses"][0]["response"] == "utter_handoff_open" for a in answers)
    found = twilio.wait_for(STAFF_PHONE, 1, timeout=20)
    assert len(found) == 1
    deadline = time.monotonic() + 3  # a second SMS would already be on its way: none comes
    while time.monotonic() < deadline:
        assert len(twilio.sent_to(STAFF_PHONE)) == 1
        time.sleep(0.1)
    call(url, "action_handoff", "web-ho-2", "m-ho-3", "a person please", "human_handoff", {})
    assert len(twilio.wait_for(STAFF_PHONE, 2, timeout=20)) == 2  # another conversation's request is sent


def test_asking_for_a_person_on_every_message_pages_the_staff_once(action_server, twilio):
    """HANDOFF_NOTICE_COOLDOWN_S (15 min): later turns of one conversation are told the staff know,
    without another SMS; a script asking 20 times costs one."""
    url, _ = action_server
    twilio.reset()
    first = call(url, "action_handoff", "web-ho-many", "m-many-0", "a person please", "human_handoff", {})
    assert first["responses"][0]["response"] == "utter_handoff_open"
    assert len(twilio.wait_for(STAFF_PHONE, 1, timeout=20)) == 1
    for turn in range(1, 20):
        again = call(url, "action_handoff", "web-ho-many", f"m-many-{turn}", "a person!!", "human_handoff", {})
        assert again["responses"][0]["response"] == "utter_handoff_open"  # the staff do know
    time.sleep(1)
    assert len(twilio.sent_to(STAFF_PHONE)) == 1
