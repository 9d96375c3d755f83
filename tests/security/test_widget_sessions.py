"""Web chat session ids are issued by the server: a client that presents an id it was not given (one it
made up, another visitor's conversation name, a forged signature) gets a conversation of its own and
reaches nothing of anyone else's; the visitor who was given one keeps their conversation across a
reload; ids the widget chose itself before the upgrade keep their conversations (the migration)."""
from __future__ import annotations

import json
import time
import uuid

import requests

from tests.security.clients import web_client
from tests.security.test_conversations import conversation, tracker_events


def open_session(target, presented=None):
    """(client, bot messages, the session id the server confirmed for `presented`)."""
    sio, got, confirmed = web_client(target)
    sio.emit("session_request", {"session_id": presented})
    return sio, got, confirmed.get(timeout=10)


def say(sio, got, session: str, text: str) -> str:
    sio.emit("user_uttered", {"message": text, "session_id": session})
    first = got.get(timeout=30)
    time.sleep(1.5)  # the rest of the turn, and its tracker save
    return first.get("text", "")


def test_a_visitor_keeps_their_conversation_across_a_reload(target):
    sio, got, session = open_session(target)
    try:
        assert "leash" in say(sio, got, session, "can i bring my dog?").lower()
    finally:
        sio.disconnect()
    sio, got, again = open_session(target, session)  # the page reloaded: the widget presents its id
    try:
        assert again == session
        say(sio, got, session, "what are your hours?")
    finally:
        sio.disconnect()
    texts = [e["text"] for e in tracker_events(target, conversation(session)) if e["event"] == "user"]
    assert texts == ["can i bring my dog?", "what are your hours?"]


def test_an_id_the_server_did_not_issue_opens_a_new_conversation(target):
    sio, got, victims = open_session(target)
    try:
        say(sio, got, victims, "can i bring my dog?")
    finally:
        sio.disconnect()
    before = len(tracker_events(target, conversation(victims)))
    name = conversation(victims)  # what staff see in the console, and what a proxy log might show
    for presented in (name, f"{name}.{'0' * 32}", f"{name}.{victims.split('.')[1][::-1]}",
                      f"web-{uuid.uuid4().hex}", uuid.uuid4().hex):
        spy, overheard, given = open_session(target, presented)
        try:
            assert conversation(given) not in (conversation(presented), name)
            spy.emit("user_uttered", {"message": "I'd like to join the wine club", "session_id": presented})
            assert "expired" in overheard.get(timeout=10).get("text", "")
            assert say(spy, overheard, given, "hello")  # the conversation it was given works
        finally:
            spy.disconnect()
    assert len(tracker_events(target, name)) == before


def legacy_conversation(target, channel: str) -> str:
    """A conversation as the widget made them before ids were issued: a 32-hex id it chose itself,
    written through `channel` (stored through Rasa's API, as an upgraded store holds it)."""
    legacy = uuid.uuid4().hex
    # stamped after the session start Rasa writes first: a read keeps the latest session's events
    event = {"event": "user", "text": "do you have a cab franc?", "timestamp": time.time() + 1,
             "input_channel": channel, "parse_data": {"intent": {"name": "ask_wine", "confidence": 1.0},
                                                      "entities": [], "text": "do you have a cab franc?"}}
    r = requests.post(f"{target.url}/conversations/{legacy}/tracker/events", params={"token": target.token},
                      json=[event], timeout=10)
    assert r.status_code == 200, r.text
    return legacy


def test_a_web_chat_from_before_the_upgrade_keeps_its_conversation(target):
    legacy = legacy_conversation(target, "socketio")
    sio, got, given = open_session(target, legacy)
    try:
        assert conversation(given) == legacy and given != legacy  # confirmed in the signed form
        say(sio, got, given, "what are your hours?")
    finally:
        sio.disconnect()
    texts = [e["text"] for e in tracker_events(target, legacy) if e["event"] == "user"]
    assert texts == ["do you have a cab franc?", "what are your hours?"]
    sio, got, again = open_session(target, given)  # from now on the widget presents the signed id
    sio.disconnect()
    assert again == given


def test_an_old_style_id_of_another_channels_conversation_is_not_opened(target):
    legacy = legacy_conversation(target, "rest")
    sio, _, given = open_session(target, legacy)
    sio.disconnect()
    assert conversation(given) != legacy


def vote(target, conversation_id: str) -> int:
    body = {"conversation_id": conversation_id, "vote": "up", "answer_text": "We are open 12-7 today."}
    return requests.post(f"{target.url}/webhooks/socketio/feedback", data=json.dumps(body),
                         headers={"Content-Type": "application/json"}, timeout=10).status_code


def test_votes_name_a_session_the_server_issued(target):
    sio, _, session = open_session(target)
    sio.disconnect()
    assert vote(target, session) == 204
    assert vote(target, f"{conversation(session)}.{'0' * 32}") == 400
    assert vote(target, f"web-{uuid.uuid4().hex[:8]}") == 400
