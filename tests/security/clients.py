"""A socket.io client as the widget is one, for the attacker tests: what it hears and which session
the server confirmed."""
from __future__ import annotations

import queue

import socketio


def web_client(target):
    """(client, queue of bot messages, queue of confirmed session ids), connected over WebSocket."""
    sio = socketio.Client(reconnection=False)
    got: "queue.Queue[dict]" = queue.Queue()
    confirmed: "queue.Queue[str]" = queue.Queue()
    sio.on("bot_uttered", lambda data: got.put(data))
    sio.on("session_confirm", lambda sid: confirmed.put(sid))
    sio.connect(target.url, socketio_path="/socket.io", transports=["websocket"])
    return sio, got, confirmed
