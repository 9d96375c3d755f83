"""The inbox over Rasa's events table: newest first, search by text, phone or email, filters,
the transcript with intent, confidence and actions, live updates, and the hand-off queue."""
from __future__ import annotations

import sqlite3
import time

import pytest
import requests

from tests.console.helpers import ADMIN, Console, Tracker, console, wait_for  # noqa: F401 - fixture

NOW = time.time()  # set again when the data is written: ages are counted from then


def seed(console) -> float:
    """Writes the five conversations (and a thumbs-down) every test here reads.

    Returns: the time they were written at (their ages count from it).
    """
    now = time.time()
    t = console.tracker
    t.user("web-old", "what are your hours?", now - 3600, intent="ask_hours")
    t.action("web-old", "action_hours", now - 3599)
    t.bot("web-old", "We open at noon.", now - 3598)
    t.user("+15550001234", "hi, do you ship to NJ? email me at pat@example.com", now - 600, channel="twilio",
           intent="ask_shipping", confidence=0.81)
    t.user("web-fallback", "blorp the zib", now - 300, intent="nlu_fallback", confidence=0.21)
    t.action("web-fallback", "action_answer_fallback", now - 299)
    t.user("web-handoff", "can I talk to a person <b>now</b>", now - 150, intent="human_handoff")
    t.action("web-handoff", "action_handoff", now - 149)
    t.user("rest-1", "hello", now - 60, channel="rest")
    with sqlite3.connect(console.data_dir / "tracker.db") as db:  # the feedback table of core/feedback_store.py
        db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, "
                   "channel TEXT NOT NULL, kind TEXT NOT NULL, rating INTEGER NOT NULL, comment TEXT, "
                   "answer_text TEXT, question_text TEXT, created_at TEXT NOT NULL)")
        db.execute("INSERT INTO feedback (conversation_id, channel, kind, rating, created_at) VALUES "
                   "('web-old', 'socketio', 'thumb', -1, '2026-11-27')")
    return now


def signed_in(console):
    """The console's JSON API as an admin script, once the seeded conversations are listed."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {console.token(*ADMIN)}"

    def get(path: str, **params) -> requests.Response:
        return session.get(console.url + path, params=params, timeout=10)

    assert wait_for(lambda: len(get("/api/conversations").json()["conversations"]) == 5)
    assert wait_for(lambda: get("/api/conversations", negative="true").json()["conversations"])
    return get


@pytest.fixture(scope="module")
def api(console):
    """Read-only tests share the module's console: no test here may write to it."""
    global NOW
    NOW = seed(console)
    return signed_in(console)


@pytest.fixture
def own(tmp_path):
    """A console of the test's own, seeded the same way, for tests that add conversations or turns:
    the shared one stays as seeded whatever order the tests run in (pytest --shuffle-seed)."""
    running = Console(tmp_path).start()
    running.tracker = Tracker(tmp_path / "tracker.db")
    seed(running)
    try:
        yield running, signed_in(running)
    finally:
        running.stop()


def ids(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["conversations"]]


def test_newest_first_across_channels(api):
    assert ids(api("/api/conversations")) == ["rest-1", "web-handoff", "web-fallback", "+15550001234", "web-old"]


@pytest.mark.parametrize("query,expected", [
    ("ship to nj", ["+15550001234"]),
    ("PAT@example.com", ["+15550001234"]),
    ("555-000-1234", ["+15550001234"]),
    ("+15550001234", ["+15550001234"]),
    ("hours", ["web-old"]),
    ("100%", []),
    ("zz_no_such_words", []),
])
def test_search_by_text_phone_or_email(api, query, expected):
    assert ids(api("/api/conversations", q=query)) == expected


def test_filters(api):
    assert ids(api("/api/conversations", channel="twilio")) == ["+15550001234"]
    assert ids(api("/api/conversations", handed_off="true")) == ["web-handoff"]
    assert "web-handoff" not in ids(api("/api/conversations", handed_off="false"))
    assert ids(api("/api/conversations", fell_back="true")) == ["web-fallback"]
    assert api("/api/conversations", fell_back="true").json()["conversations"][0]["fallbacks"] == 1
    assert ids(api("/api/conversations", negative="true")) == ["web-old"]
    today = time.strftime("%Y-%m-%d", time.gmtime(NOW))
    assert len(ids(api("/api/conversations", **{"from": today, "to": today}))) >= 4
    assert ids(api("/api/conversations", **{"to": "2020-01-01"})) == []


@pytest.mark.parametrize("params,reason", [
    ({"channel": "fax"}, "'channel' must be one of"),
    ({"handed_off": "maybe"}, "'handed_off' must be true or false"),
    ({"from": "27/11/2026"}, "must be a date"),
    ({"q": "x" * 101}, "at most 100"),
])
def test_bad_filters_get_a_clear_400(api, params, reason):
    r = api("/api/conversations", **params)
    assert r.status_code == 400 and reason in r.json()["error"]


def test_transcript_shows_intent_confidence_and_actions(api):
    r = api("/api/conversations/web-old")
    turns = r.json()["turns"]
    assert [t["kind"] for t in turns] == ["user", "action", "bot"]
    assert turns[0]["intent"] == "ask_hours" and turns[0]["confidence"] == pytest.approx(0.97)
    assert turns[1]["action"] == "action_hours" and turns[2]["text"] == "We open at noon."
    assert api("/api/conversations/nobody").status_code == 404
    assert api("/api/conversations/web-old", after="x").status_code == 400


def test_live_updates_return_only_new_turns(own):
    console, api = own
    first = api("/api/conversations/web-old").json()
    console.tracker.user("web-old", "and on sundays?", time.time(), intent="ask_hours")
    later = api("/api/conversations/web-old", after=first["last_event_id"]).json()
    assert [t["text"] for t in later["turns"]] == ["and on sundays?"]
    assert api("/api/conversations/web-old", after=later["last_event_id"]).json()["turns"] == []
    # and the inbox moves it to the top once folded
    assert wait_for(lambda: ids(api("/api/conversations"))[0] == "web-old")


def test_handoff_queue_lists_requests_with_their_age(api, console):
    waiting = api("/api/handoffs").json()["waiting"]
    assert [w["id"] for w in waiting] == ["web-handoff"]
    assert 100 <= waiting[0]["age_s"] < 3600
    s = console.browser_session(*ADMIN)
    page = s.get(console.url + "/").text
    # asked 149 s after the request (mid-minute): the page and the API agree on whole minutes
    assert "Waiting for a person" in page and f"waiting {waiting[0]['age_s'] // 60} min" in page
    assert "&lt;b&gt;now&lt;/b&gt;" in page and "<b>now</b>" not in page


def test_export_as_rasa_test_story_and_nlu_with_a_corrected_intent(api):
    import yaml

    story = api("/api/conversations/web-fallback/export", format="story")
    assert story.status_code == 200 and story.headers["Content-Type"].startswith("text/yaml")
    assert "web-fallback" not in story.headers["Content-Disposition"]
    steps = yaml.safe_load(story.text)["stories"][0]["steps"]
    assert steps == [{"user": "blorp the zib", "intent": "nlu_fallback"}, {"action": "action_answer_fallback"}]
    turn = next(t for t in api("/api/conversations/web-fallback").json()["turns"] if t["kind"] == "user")
    nlu = api("/api/conversations/web-fallback/export", format="nlu", fix=f"{turn['event_id']}:ask_wine")
    assert yaml.safe_load(nlu.text)["nlu"] == [{"intent": "ask_wine", "examples": "- blorp the zib\n"}]
    assert api("/api/conversations/web-fallback/export", format="pdf").status_code == 400
    assert api("/api/conversations/web-fallback/export", fix="x:y z").status_code == 400


def test_overview_counts_and_csv(api, console):
    import csv
    import io
    from datetime import datetime, timedelta

    from console.summaries import tz

    today = datetime.now(tz()).date()
    params = {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}
    data = api("/api/overview", **params).json()
    assert data["totals"]["conversations"] == 5
    assert {k: sum(v) for k, v in data["conversations_by_channel"].items()} == {"socketio": 3, "twilio": 1, "rest": 1}
    assert data["totals"]["fallbacks"] == 1 and data["totals"]["handoffs"] == 1
    assert sorted((i["intent"], i["count"]) for i in data["top_intents"]) == [
        ("ask_hours", 1), ("ask_shipping", 1), ("greet", 1), ("human_handoff", 1), ("nlu_fallback", 1)]
    assert data["response_ms"]["answered"] >= 1 and data["response_ms"]["median"] is not None
    rows = list(csv.DictReader(io.StringIO(api("/overview.csv", metric="conversations", **params).text)))
    assert sum(int(r["count"]) for r in rows) == 5 and {r["metric"] for r in rows} == {"conversations"}
    assert api("/api/overview", **{"from": "2026-12-01", "to": "2026-01-01"}).status_code == 400
    assert api("/overview.csv", metric="secrets").status_code == 400
    page = console.browser_session(*ADMIN).get(console.url + "/overview", params=params)
    assert page.status_code == 200 and 'id="kpi-conversations">5<' in page.text


def test_knowledge_gaps_group_questions_by_meaning(own):
    console, api = own
    t, now = console.tracker, time.time()
    for n, text in enumerate(["can I bring my dog?", "are dogs allowed at the winery", "do you have gluten free food",
                              "is there gluten-free food", "any gluten free snacks?"]):
        sender = f"gap-{n}"
        t.user(sender, text, now + n, intent="nlu_fallback", confidence=0.3)
        t.action(sender, "action_answer_fallback", now + n + 0.1)
        t.bot(sender, "Sorry, I'm not sure.", now + n + 0.2)
    with sqlite3.connect(console.data_dir / "tracker.db") as db:
        db.execute("INSERT INTO feedback (conversation_id, channel, kind, rating, question_text, answer_text, "
                   "created_at) VALUES ('web-old', 'socketio', 'thumb', -1, 'gluten free options?', 'We open at noon.',"
                   " '2026-11-27T10:00:00+00:00')")
    assert wait_for(lambda: sum(g["count"] for g in api("/api/gaps", days=365).json()["gaps"]) >= 6, timeout=15)
    found = api("/api/gaps", days=365).json()["gaps"]
    gluten = found[0]
    assert gluten["count"] == 4 and gluten["thumbs_down"] == 1 and gluten["fallbacks"] == 3
    assert all("gluten" in x["text"] for x in gluten["examples"])
    dogs = next(g for g in found if "dog" in g["question"])
    assert dogs["count"] == 2
    assert api("/api/gaps", days="x").status_code == 400
    page = console.browser_session(*ADMIN).get(console.url + "/improve", params={"days": 365}).text
    assert "Knowledge gaps" in page and "gluten" in page


def test_a_conversation_keeps_the_channel_its_customer_wrote_through(own):
    """A web message written under an SMS customer's phone (possible before conversations had a
    space per channel) must not turn their thread into a web chat: staff replies follow the label."""
    running, get = own
    now = time.time()
    running.tracker.user("+15550001234", "I'd like to join the wine club", now, channel="socketio")
    assert wait_for(lambda: get("/api/conversations").json()["conversations"][0]["id"] == "+15550001234")
    [row] = [c for c in get("/api/conversations").json()["conversations"] if c["id"] == "+15550001234"]
    assert row["channel"] == "twilio"
    assert ids(get("/api/conversations", channel="twilio")) == ["+15550001234"]
