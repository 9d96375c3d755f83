"""The socket.io channel the widget uses, driven by a real python-socketio client:
normal turns, session persistence, bad input answered with a clear reply, the
polling -> WebSocket upgrade browsers make, and the origins allowed to connect."""
from __future__ import annotations

import json
import queue
import time

import pytest
import requests
import socketio
import websocket


@pytest.fixture()
def client(stack):
    sio = socketio.Client(reconnection=False)
    replies: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("bot_uttered", lambda data: replies.put(data))
    sio.on("session_confirm", lambda sid: confirmed.put(sid))
    sio.connect(stack.url, socketio_path="/socket.io", transports=["websocket"])
    sio.emit("session_request", {"session_id": None})
    session = confirmed.get(timeout=10)
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
    ({"message": "x" * 5000, "session_id": "S"}, "2,000 characters"),
    ({"message": {"nested": 1}, "session_id": "S"}, "couldn't read"),
    ({"message": "hi", "session_id": "S", "metadata": "{not json"}, "couldn't read"),
    ({"message": "hi", "session_id": "S", "metadata": {"note": "x" * 10_000}}, "couldn't read"),  # over 4 KB
    ({"message": "hi"}, "expired"),
])
def test_bad_messages_get_a_clear_reply_and_the_session_keeps_working(client, payload, expected):
    sio, session, replies = client
    payload = {k: (session if v == "S" else v) for k, v in payload.items()}
    assert expected in ask(sio, replies, payload)
    assert "leash" in ask(sio, replies, {"message": "are dogs allowed?", "session_id": session}).lower()


@pytest.mark.parametrize("opener", ["", "   "])
def test_an_empty_message_is_how_a_widget_opens_and_gets_no_answer(client, opener):
    """rasa-webchat without an initPayload opens with an empty message: it used to be answered
    "It looks like that message was empty" before the visitor wrote anything."""
    sio, session, replies = client
    sio.emit("user_uttered", {"message": opener, "session_id": session})
    with pytest.raises(queue.Empty):
        replies.get(timeout=3)
    assert "leash" in ask(sio, replies, {"message": "are dogs allowed?", "session_id": session}).lower()


def test_rasa_webchats_init_payload_is_a_greeting(client):
    sio, session, replies = client
    assert "Milea" in ask(sio, replies, {"message": "/get_started", "session_id": session})


def test_non_object_payload(client):
    sio, session, replies = client
    assert "couldn't read" in ask(sio, replies, "just a string")


# ---- transports and origins ------------------------------------------------------------

def _ws_url(stack, sid: str | None = None) -> str:
    query = "EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
    return f"ws://127.0.0.1:{stack.rasa_port}/socket.io/?{query}"


def _open_by_polling(stack, origin: str | None = None) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    return requests.get(f"{stack.url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                        headers=headers, timeout=10)


def test_a_polling_session_upgrades_to_websocket(stack):
    """The upgrade socket.io-client makes in every browser: a session opened by long-polling,
    then a WebSocket with its sid, probe and upgrade packets, and the chat over the WebSocket.
    (It failed: the probe was answered with an HTTP response written onto the WebSocket,
    a frame with reserved bits set, and the client closed with 1002.)"""
    opened = _open_by_polling(stack)
    assert opened.status_code == 200 and opened.text.startswith("0"), opened.text
    sid = json.loads(opened.text[1:])["sid"]
    poll = f"{stack.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert requests.post(poll, data="40", timeout=10).text == "OK"  # socket.io CONNECT
    assert requests.get(poll, timeout=10).text.startswith("40")  # its answer
    ws = websocket.create_connection(_ws_url(stack, sid), timeout=10, origin=f"http://localhost:{stack.widget_port}")
    try:
        ws.send("2probe")
        opcode, frame = ws.recv_data()  # raises WebSocketProtocolException on a bad frame
        assert (opcode, frame) == (websocket.ABNF.OPCODE_TEXT, b"3probe")
        ws.send("5")  # UPGRADE: from now on the polling transport is closed
        ws.send("42" + json.dumps(["session_request", {"session_id": None}]))
        confirm = ws.recv()
        while confirm in ("6", "3"):  # engine.io NOOP (the closed polling transport), PONG
            confirm = ws.recv()
        assert confirm.startswith('42["session_confirm",'), confirm
        session = json.loads(confirm[2:])[1]
        ws.send("42" + json.dumps(["user_uttered", {"message": "can i bring my dog?", "session_id": session}]))
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("leash" in s.lower() for s in seen):
            seen.append(ws.recv())
        assert any(s.startswith('42["bot_uttered"') and "leash" in s.lower() for s in seen), seen
    finally:
        ws.close()


def test_the_python_client_ends_on_websocket_after_polling(stack):
    sio = socketio.Client(reconnection=False)
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("session_confirm", confirmed.put)
    sio.connect(stack.url, socketio_path="/socket.io", transports=["polling", "websocket"])
    try:
        deadline = time.monotonic() + 10
        while sio.transport() != "websocket" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sio.transport() == "websocket"
        sio.emit("session_request", {"session_id": None})
        assert confirmed.get(timeout=10)
    finally:
        sio.disconnect()


def test_only_the_widget_origin_may_connect(stack):
    widget = f"http://localhost:{stack.widget_port}"
    allowed = _open_by_polling(stack, widget)
    assert allowed.status_code == 200
    assert allowed.headers.get("Access-Control-Allow-Origin") == widget
    assert len(allowed.raw.headers.getlist("Access-Control-Allow-Origin")) == 1  # one header, or browsers refuse it
    assert _open_by_polling(stack, "https://evil.example").status_code == 400
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(_ws_url(stack), timeout=10, origin="https://evil.example")
    assert refused.value.status_code == 400
    ws = websocket.create_connection(_ws_url(stack), timeout=10, origin=widget)
    try:
        assert ws.recv().startswith("0{")  # engine.io OPEN
    finally:
        ws.close()
