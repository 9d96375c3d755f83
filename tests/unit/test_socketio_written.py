"""channels/socketio.py `written`: a bot message reaches the visitor's WebSocket before the turn
goes on. Rasa's turn continues without yielding the event loop (the next policy prediction,
the tracker save), and a message emitted just before that waited in engine.io's queue until
the whole turn was done.

Here a real socket.io server (the Rasa venv; the channel's output, aiohttp driver) sends a text
and a card, then holds its event loop as a prediction does, until the visitor, a real socket.io
client in this process, says on a plain TCP socket that it has both, or 10 s pass."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from typing import Optional

import socketio

from tests.unit.rasa_side import RASA_PY, ROOT

SERVER = """
import asyncio, json, socket, sys, time
from aiohttp import web
import socketio
import channels.socketio as channel

if sys.argv[1] == "plain":  # Rasa's own emit: nothing waits for the writer
    async def written(*_args, **_kwargs):
        return None
    channel.written = written

def listening():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s

async def main():
    told = listening()
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.on("ask")
    async def ask(sid, _data=None):
        await channel._Output(sio, "bot_uttered").send_response(
            sid, {"text": "A red to try", "custom": {"wine": "card"}})
        started = time.monotonic()
        told.settimeout(10)
        try:
            told.accept()[0].close()  # blocks the loop, as the turn's next prediction does
        except socket.timeout:
            pass
        print(json.dumps({"held_s": round(time.monotonic() - started, 2)}), flush=True)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    web_socket = listening()
    await web.SockSite(runner, web_socket).start()
    print(json.dumps({"port": web_socket.getsockname()[1], "told": told.getsockname()[1]}), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def visit(transport: str, writer: str) -> tuple[list, Optional[float]]:
    """Asks once; returns the bot messages' keys and how long the server held its loop."""
    server = subprocess.Popen([str(RASA_PY), "-c", SERVER, writer], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        ports = json.loads(server.stdout.readline())
        got: list = []
        both = threading.Event()

        def bot_uttered(data: dict) -> None:
            got.append(sorted(data))
            if len(got) == 2:
                both.set()
                socket.create_connection(("127.0.0.1", ports["told"]), timeout=5).close()

        client = socketio.Client(reconnection=False)
        client.on("bot_uttered", bot_uttered)
        client.connect(f"http://127.0.0.1:{ports['port']}", transports=[transport], wait_timeout=20)
        try:
            client.emit("ask", {})
            held = json.loads(server.stdout.readline() or "{}").get("held_s")
            both.wait(10)
        finally:
            client.disconnect()
        return got, held
    finally:
        server.kill()
        server.wait()


def test_text_and_card_reach_the_websocket_while_the_turn_goes_on() -> None:
    got, held = visit("websocket", "wait")
    assert got == [["text"], ["custom"]]
    assert held is not None and held < 5, "the card only left when the turn let go of the event loop"


def test_rasas_plain_emit_keeps_the_card_until_the_turn_is_done() -> None:
    """The control, so the test above can fail: without `written`, the card waits out the hold."""
    got, held = visit("websocket", "plain")
    assert held is not None and held >= 9.5
    assert got == [["text"], ["custom"]]  # and still arrives, after the turn


def test_long_polling_visitors_get_both_messages() -> None:
    """Not waited for (their next GET takes the packets), so a turn never hangs on them."""
    got, held = visit("polling", "wait")
    assert got == [["text"], ["custom"]]
    assert held is not None
