"""The socket.io channel the widget uses, driven by a real python-socketio client:
normal turns, session persistence, and bad input answered with a clear reply."""
from __future__ import annotations

import queue
import uuid

import pytest
import socketio


@pytest.fixture()
def client(stack):
    sio = socketio.Client(reconnection=False)
    replies: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("bot_uttered", lambda data: replies.put(data))
    sio.on("session_confirm", lambda sid: confirmed.put(sid))
    sio.connect(stack.url, socketio_path="/socket.io", transports=["websocket"])
    session = f"sio-{uuid.uuid4().hex[:8]}"
    sio.emit("session_request", {"session_id": session})
    assert confirmed.get(timeout=10) == session
    yield sio, session, replies
    sio.disconnect()


def ask(sio, replies, payload, timeout=30.0) -> str:
    sio.emit("user_uttered", payload)
    first = replies.get(timeout=timeout)
    texts = [first.get("text", "")]
    while True:  # collect the rest of this turn's messages
        try:
            texts.append(replies.get(timeout=1.5).get("text", ""))
        except queue.Empty:
            return " ".join(texts)


def test_a_question_gets_an_answer(client):
    sio, session, replies = client
    assert "leash" in ask(sio, replies, {"message": "can i bring my dog?", "session_id": session}).lower()


@pytest.mark.parametrize("payload, expected", [
    ({"message": "", "session_id": "S"}, "empty"),
    ({"message": "x" * 5000, "session_id": "S"}, "2,000 characters"),
    ({"message": {"nested": 1}, "session_id": "S"}, "empty"),
    ({"message": "hi", "session_id": "S", "metadata": "{not json"}, "couldn't read"),
    ({"message": "hi"}, "expired"),
])
def test_bad_messages_get_a_clear_reply_and_the_session_keeps_working(client, payload, expected):
    sio, session, replies = client
    payload = {k: (session if v == "S" else v) for k, v in payload.items()}
    assert expected in ask(sio, replies, payload)
    assert "leash" in ask(sio, replies, {"message": "are dogs allowed?", "session_id": session}).lower()


def test_non_object_payload(client):
    sio, session, replies = client
    assert "couldn't read" in ask(sio, replies, "just a string")
