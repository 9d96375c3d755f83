"""The widget's votes taken by the Rasa server (channels/votes.py): the route on a real
Sanic server, as the socket.io channel mounts it, storing into a real SQLite store."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest
import requests
from sanic import Blueprint, Sanic

from channels.guard import FloodGuard, RateLimits
from channels.votes import VOTES_PER_ADDRESS, VOTES_PER_CONVERSATION, add_vote_route
from core.feedback_store import FeedbackStore

VOTE = {"conversation_id": "0123456789abcdef0123456789abcdef", "vote": "up",
        "answer_text": "Our Cabernet Franc is $38.", "question_text": "how much is the cab franc"}


class _Broken:
    def add(self, _record):
        raise ConnectionError("database down")


_CURRENT: dict = {}


@pytest.fixture(scope="module")
def route_url():
    """The route served on a free port by one Sanic app in a thread (Sanic allows one per process)."""
    app = Sanic("votes_route_test")
    blueprint = Blueprint("socketio_webhook", url_prefix="/webhooks/socketio")
    frozen = FloodGuard(RateLimits(VOTES_PER_CONVERSATION, VOTES_PER_ADDRESS, 60), clock=lambda: 1_000_000.0,
                        name="votes")
    add_vote_route(blueprint, lambda: _CURRENT["store"], frozen)
    app.blueprint(blueprint)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict = {}

    async def serve() -> None:
        holder["server"] = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True,
                                                   access_log=False)
        await holder["server"].startup()
        holder["port"] = holder["server"].server.sockets[0].getsockname()[1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(20), "the Sanic server did not start"
    yield f"http://127.0.0.1:{holder['port']}/webhooks/socketio/feedback"
    loop.call_soon_threadsafe(holder["server"].close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def server(route_url, tmp_path):
    """(url, store, make_broken) with a fresh SQLite store behind the route."""
    store = _CURRENT["store"] = FeedbackStore(f"sqlite:///{tmp_path / 'tracker.db'}")
    yield route_url, store, lambda: _CURRENT.__setitem__("store", _Broken())
    _CURRENT.clear()


def test_a_vote_is_stored(server):
    url, store, _ = server
    response = requests.post(url, json=VOTE, timeout=5)
    assert response.status_code == 204 and response.content == b""
    assert requests.post(url, json={**VOTE, "vote": "down", "question_text": None}, timeout=5).status_code == 204
    rows = store.all()
    assert [(r.kind, r.channel, r.rating) for r in rows] == [("thumb", "socketio", 1), ("thumb", "socketio", -1)]
    assert rows[0].answer_text == VOTE["answer_text"] and rows[0].question_text == VOTE["question_text"]
    assert rows[1].question_text is None


@pytest.mark.parametrize("body, content_type, status", [
    (json.dumps({**VOTE, "vote": "meh"}), "application/json", 400),
    (json.dumps({**VOTE, "extra": 1}), "application/json", 400),
    *[(json.dumps(body), "application/json", 400) for body in (
        {**VOTE, "vote": 1}, {**VOTE, "vote": None},
        {k: v for k, v in VOTE.items() if k != "vote"},
        {k: v for k, v in VOTE.items() if k != "answer_text"},
        {k: v for k, v in VOTE.items() if k != "conversation_id"},
        {**VOTE, "conversation_id": "x" * 129}, {**VOTE, "conversation_id": "a b"},
        {**VOTE, "conversation_id": 12345},
        {**VOTE, "answer_text": "x" * 2001}, {**VOTE, "question_text": "x" * 2001},
        {**VOTE, "answer_text": ""}, {**VOTE, "answer_text": 42}, {**VOTE, "question_text": ["a"]},
        "up", None)],
    ("\xff\xfe{}", "application/json", 400),
    (json.dumps([VOTE]), "application/json", 400),
    ("{not json", "application/json", 400),
    ("[" * 10_000, "application/json", 400),
    (json.dumps(VOTE), "text/plain", 400),
    (json.dumps({**VOTE, "answer_text": "x" * 20_000}), "application/json", 413),
])
def test_bad_votes_get_a_clear_4xx_and_nothing_is_stored(server, body, content_type, status):
    url, store, _ = server
    response = requests.post(url, data=body.encode(), headers={"Content-Type": content_type}, timeout=5)
    assert response.status_code == status and response.json()["error"]
    assert store.all() == []


def test_store_down_is_a_503_not_a_500(server):
    url, _, break_store = server
    break_store()
    response = requests.post(url, json=VOTE, timeout=5)
    assert response.status_code == 503 and "try again" in response.json()["error"]



def test_votes_are_throttled_per_conversation_and_per_address(server):
    """Every vote is a database row: a script posting thousands gets 429 with Retry-After past the
    limits (30 a minute per conversation, 60 per address; the clock is frozen so no minute ends)."""
    url, store, _ = server
    mine = {**VOTE, "conversation_id": "f" * 32}
    one = [requests.post(url, json=mine, timeout=10) for _ in range(40)]
    assert [r.status_code for r in one[:30]] == [204] * 30
    assert {r.status_code for r in one[30:]} == {429} and int(one[-1].headers["Retry-After"]) >= 1
    assert "too many votes" in one[-1].json()["error"]
    many = [requests.post(url, json={**VOTE, "conversation_id": f"c{n:031d}"}, timeout=10) for n in range(40)]
    assert many[-1].status_code == 429  # other conversations, one address
    assert len([r for r in store.all() if r.conversation_id == mine["conversation_id"]]) == 30
