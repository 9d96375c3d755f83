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


def one_turn(got: "queue.Queue[dict]", first_wait: float = 30.0, quiet: float = 2.0) -> str:
    """The texts of one turn's bot messages, joined: the first within `first_wait`, then the rest until
    `quiet` seconds pass with nothing more."""
    turn = [got.get(timeout=first_wait).get("text", "")]
    while True:
        try:
            turn.append(got.get(timeout=quiet).get("text", ""))
        except queue.Empty:
            return " ".join(turn)
