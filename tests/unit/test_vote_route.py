"""The widget's votes taken by the Rasa server (channels/votes.py): the route on a real
Sanic server, as the socket.io channel mounts it, storing into a real SQLite store."""
from __future__ import annotations

import asyncio
import json
import threading

import pytest
import requests
from sanic import Blueprint, Sanic

from core.feedback_store import FeedbackStore
from channels.votes import add_vote_route

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
    add_vote_route(blueprint, lambda: _CURRENT["store"])
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
