"""channels/socketio_rooms.py: two socket.io servers sharing rooms through the real Redis, as two
Rasa replicas do. A visitor connected to one gets what the other emits to their room, once; a
pickle someone publishes on the channel is never unpickled; and when Redis is unreachable the
server holding the visitor still delivers its own emits. The
whole channel across the real replicas: tests/production/test_staff_replies.py."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.unit.rasa_side import RASA_PY, REDIS_URL, ROOT, require_redis, run_in_rasa_venv

# Runs in the Rasa venv: servers A and B (aiohttp driver, same manager as the Sanic channel),
# one client on A in room "conv-1"; prints what the client received after each step.
REPLICAS = """
import asyncio, json, os, pickle, socket, sys, uuid
from aiohttp import web
import socketio
from redis.exceptions import RedisError
from channels.socketio_rooms import SharedRooms
from scripts.ports import free_port

CHANNEL = "test-rooms-" + uuid.uuid4().hex  # not the channel of clusters sharing this Redis

async def server(url, port):
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=SharedRooms(url, CHANNEL))
    @sio.on("join")
    async def join(sid, room):
        sio.enter_room(sid, room)
        await sio.emit("joined", room, room=sid)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return sio

async def drain(got, wait):
    # what arrives within `wait` s, then anything more (a duplicate) within 0.5 s of the last
    seen = []
    while True:
        try:
            seen.append(await asyncio.wait_for(got.get(), 0.5 if seen else wait))
        except asyncio.TimeoutError:
            return seen

async def main(url):
    port_a, port_b = free_port(), free_port()
    a, b = await server(url, port_a), await server(url, port_b)
    got = asyncio.Queue()
    client = socketio.AsyncClient(reconnection=False)
    client.on("joined", lambda room: got.put_nowait("joined " + room))
    client.on("bot_uttered", lambda data: got.put_nowait(data["text"]))
    await client.connect(f"http://127.0.0.1:{port_a}", transports=["polling"])
    await client.emit("join", "conv-1")
    steps = {"join": await drain(got, 5)}
    for _ in range(100):  # A subscribes in the background once a visitor connects: wait for it
        try:
            if (await b.manager.redis.pubsub_numsub(CHANNEL))[0][1] >= 1:
                break
        except RedisError:  # unreachable: nothing to wait for
            break
        await asyncio.sleep(0.05)
    await b.emit("bot_uttered", {"text": "from B"}, room="conv-1")
    steps["from_b"] = await drain(got, 3)
    await a.emit("bot_uttered", {"text": "from A"}, room="conv-1")
    steps["from_a"] = await drain(got, 3)
    if len(sys.argv) > 2:  # someone with access to Redis publishes a pickle that would write a file
        class Payload:
            def __reduce__(self):
                return (open, (sys.argv[2], "w"))
        await b.manager.redis.publish(CHANNEL, pickle.dumps(Payload()))
        await b.manager.redis.publish(CHANNEL, b"not json")
        await b.emit("bot_uttered", {"text": "after junk"}, room="conv-1")
        steps["after_junk"] = await drain(got, 3)
    await client.disconnect()
    print(json.dumps(steps), flush=True)
    os._exit(0)  # the servers' graceful shutdown waits out the long-poll: nothing to keep

asyncio.run(main(sys.argv[1]))
"""


def replicas(redis_url: str, *marker: str) -> dict:
    return run_in_rasa_venv(REPLICAS, redis_url, *marker)


pytestmark = pytest.mark.skipif(not RASA_PY.exists(), reason="the Rasa venv is not set up")


def test_an_emit_on_one_server_reaches_a_visitor_held_by_the_other_once(tmp_path):
    require_redis()
    marker = tmp_path / "unpickled"
    steps = replicas(REDIS_URL, str(marker))
    assert steps == {"join": ["joined conv-1"], "from_b": ["from B"], "from_a": ["from A"],
                     "after_junk": ["after junk"]}
    assert not marker.exists(), "a replica unpickled what someone published on the channel"


def test_without_redis_the_server_holding_the_visitor_still_delivers():
    steps = replicas("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert steps == {"join": ["joined conv-1"], "from_b": [], "from_a": ["from A"]}


def test_without_redis_url_the_channel_keeps_the_in_process_manager():
    done = subprocess.run([str(RASA_PY), "-c", "from channels.socketio_rooms import client_manager as m; "
                           "print(m({}), type(m({'REDIS_URL': 'redis://127.0.0.1:6379/0'})).__name__)"],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["None", "SharedRooms"]
