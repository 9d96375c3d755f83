"""The load benchmark's bookkeeping (no servers): scripts, socket.io message counts,
process-tree attribution and the per-level numbers."""
from __future__ import annotations

import itertools
import os
import subprocess

import pytest

from bench import load

from core.paths import ROOT
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"


def test_scripts_are_reproducible_and_balanced():
    first = list(itertools.islice(load.script(7, "rest", 20, 3), 40))
    assert first == list(itertools.islice(load.script(7, "rest", 20, 3), 40))
    assert first != list(itertools.islice(load.script(7, "rest", 20, 4), 40))
    for block in range(10):
        assert sorted(kind for kind, _ in first[block * 4:block * 4 + 4]) == sorted(load.MIX)
    assert all(text in load.MIX[kind] for kind, text in first)


def test_socket_message_count_follows_rasas_splitting():
    replies = [
        {"recipient_id": "u", "text": "one\n\ntwo"},  # REST already split plain text: one message here
        {"recipient_id": "u", "text": "pick\n\none", "buttons": [{"title": "a", "payload": "/a"}]},
        {"recipient_id": "u", "image": "https://example.invalid/x.png"},
    ]
    assert load.socket_messages(replies) == 1 + 2 + 1


def test_each_process_counts_for_its_nearest_role_root():
    table = {  # pid: (ppid, rss, cpu)
        10: (1, 100, 1.0),   # supervisor
        11: (10, 1000, 5.0),  # rasa
        12: (11, 50, 0.5),   # a child of rasa
        13: (10, 200, 2.0),  # actions
        14: (10, 7, 0.1),    # unnamed child of the supervisor
        99: (1, 5000, 9.0),  # someone else's
    }
    got = load.attribute(table, {"supervisor": 10, "rasa": 11, "actions": 13})
    assert got == {"supervisor": (107, 1.1), "rasa": (1050, 5.5), "actions": (200, 2.0)}


def test_processes_are_named_from_a_list_or_kept_from_a_dict():
    assert load.name_processes({"rasa1": 5, "nginx": "6"}) == {"rasa1": 5, "nginx": 6}
    named = load.name_processes([os.getpid(), os.getpid()])
    assert len(named) == 2 and all(pid == os.getpid() for pid in named.values())
    assert load.role_of("/x/.venv/rasa/bin/python /x/.venv/rasa/bin/rasa run --port 1") == "rasa"
    assert load.role_of("/x/python -m rasa_sdk --actions actions") == "actions"
    assert load.role_of("/x/python -m scripts.action_server --actions actions") == "actions"


def test_level_numbers_measure_after_the_warmup():
    run = load.Run(users=2, warmup_s=1.0, duration_s=10.0, max_messages=100)
    run.begin()
    t0 = run.start
    run.record(load.Turn("greeting", t0 + 0.1, t0 + 0.2, True), 0)     # warm-up: not measured
    run.record(load.Turn("greeting", t0 + 2.0, t0 + 2.1, True), 0)
    run.record(load.Turn("knowledge", t0 + 3.0, t0 + 3.3, True), 1)
    run.record(load.Turn("wine", t0 + 4.0, t0 + 4.0, False, "timeout"), 1)
    numbers = load.level_numbers(run, t0 + 12)
    assert numbers["measured"] == 2 and numbers["errors"] == 1
    assert numbers["by_kind"]["knowledge"]["p50_ms"] == pytest.approx(300, abs=1)
    assert numbers["throughput_msg_s"] == pytest.approx(2 / 10, abs=0.01)
    assert numbers["turns_per_user"] == {"min": 2, "max": 2}


def test_conversations_rotate():
    run = load.Run(users=1, warmup_s=0, duration_s=1, max_messages=10, turns_per_conversation=3)
    assert [run.conversation_id("u", n) for n in range(7)] == ["u-c0"] * 3 + ["u-c1"] * 3 + ["u-c2"]


RASA_SIDE_CHECKS = r"""
import asyncio
from aiohttp import web
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
import os
import channels.ops, channels.rest, channels.socketio, rasa_tuning
# loading the channels (as credentials.yml makes Rasa do) changes nothing: only the entry point tunes
assert not getattr(RemoteAction._validate_action_result, "_milea_one_validator", False)
assert not getattr(EndpointConfig.session, "_milea_shared", False)
rasa_tuning.apply(os.environ)
rasa_tuning.apply(os.environ)  # applying twice is harmless

action = RemoteAction("action_x", None)
assert action._validate_action_result({"events": [{"event": "slot", "name": "wine", "value": "x"}],
                                       "responses": [{"text": "hi"}]}) is True
for bad in ({"events": [{"event": "slot", "name": 3}]}, {"events": "x"}, {"responses": [1]}, [],
            {"events": [{"event": "nope"}]}):
    try:
        validate(bad, RemoteAction.action_response_format_spec())
    except ValidationError as e:
        expected = e.message
    try:
        action._validate_action_result(bad)
    except ValidationError as e:
        assert e.message.startswith(expected + ". Failed to validate Action server response"), e.message
    else:
        raise AssertionError(f"accepted {bad}")
print("validator ok")


async def connections():
    ports, headers = [], []

    async def webhook(request):
        ports.append(request.transport.get_extra_info("peername")[1])
        headers.append(request.headers.get("X-Test"))
        return web.json_response({"events": [], "responses": []})

    async def rejected(request):
        return web.json_response({"action_name": "a", "error": "no"}, status=400)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    app.router.add_post("/rejected", rejected)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Test": "kept"})
    for _ in range(5):
        assert await endpoint.request(json={}, method="post") == {"events": [], "responses": []}
    assert len(set(ports)) == 1 and headers == ["kept"] * 5, (ports, headers)
    await asyncio.gather(*[endpoint.request(json={}, method="post") for _ in range(20)])
    assert len(set(ports)) >= 20, "concurrent calls must not queue for a connection"
    try:
        await EndpointConfig(f"http://127.0.0.1:{port}/rejected").request(json={}, method="post")
    except Exception as e:
        assert getattr(e, "status", None) == 400, e
    await runner.cleanup()
    try:
        await endpoint.request(json={}, method="post")
    except Exception as e:
        assert "ClientConnect" in type(e).__name__, e
    print("connections ok")

asyncio.run(connections())
"""


@pytest.fixture(scope="module")
def rasa_side():
    if not RASA_PY.exists():
        pytest.skip("needs the Rasa venv")
    return subprocess.run([str(RASA_PY), "-c", RASA_SIDE_CHECKS], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_prepared_validator_accepts_and_rejects_like_rasa(rasa_side):
    """rasa_tuning.speedups swaps Rasa's per-call jsonschema.validate for a prepared validator."""
    assert "validator ok" in rasa_side.stdout, rasa_side.stderr[-3000:]


def test_action_server_connections_are_reused(rasa_side):
    assert "connections ok" in rasa_side.stdout, rasa_side.stderr[-3000:]
    assert "Unclosed client session" not in rasa_side.stderr


def test_the_next_level_waits_for_a_busy_server_and_not_for_an_idle_one():
    """A process that keeps a core busy for 3 s holds the next level back until it is done."""
    busy = subprocess.Popen(["python3", "-c", "import time\nend = time.time() + 3\nwhile time.time() < end: pass"])
    idle = subprocess.Popen(["sleep", "30"])
    try:
        waited_busy = load.wait_until_idle(load.Target("busy", "", lambda: {"rasa": busy.pid}, lambda: None))
        waited_idle = load.wait_until_idle(load.Target("idle", "", lambda: {"rasa": idle.pid}, lambda: None))
    finally:
        for proc in (busy, idle):
            proc.kill()
            proc.wait()
    assert waited_busy >= 2.5
    assert waited_idle < 2.5
