"""Feedback: the store (SQLite beside the tracker store, PostgreSQL when available), the
rating form as the action server runs it, and the report."""
from __future__ import annotations

import asyncio
import csv
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import settings as settings_module
from core.feedback_store import Feedback, FeedbackStore
from actions.forms.feedback import (NO_COMMENT, ActionSubmitFeedback, ValidateFeedbackForm, answer_before_feedback,
                                    optional_comment, parse_rating)
from scripts import feedback_report

from core.paths import ROOT
from scripts.ports import free_port
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def data_dir(settings, tmp_path, monkeypatch):
    """The actions' settings with a fresh data folder and the default (SQLite) feedback database."""
    monkeypatch.setenv("MILEA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FEEDBACK_DB_URL", raising=False)
    monkeypatch.delenv("TRACKER_DB_URL", raising=False)
    settings_module.get_settings.cache_clear()
    yield tmp_path
    settings_module.get_settings.cache_clear()


def sqlite_store(path: Path) -> FeedbackStore:
    return FeedbackStore(f"sqlite:///{path}")


# ---------------------------------------------------------------- store

def test_store_round_trip_on_sqlite(tmp_path):
    store = sqlite_store(tmp_path / "tracker.db")
    first = store.add(Feedback("conv-1", "socketio", "rating", 4, comment="Lovely afternoon",
                               answer_text="We're open 12 to 5.", question_text="when are you open"))
    second = store.add(Feedback("conv-2", "twilio", "thumb", -1, answer_text="The Jumper tier is $90."))
    rows = store.all()
    assert [r.id for r in rows] == [first, second]
    assert rows[0].rating == 4 and rows[0].comment == "Lovely afternoon" and rows[0].kind == "rating"
    assert rows[0].question_text == "when are you open" and rows[0].answer_text == "We're open 12 to 5."
    assert rows[1].channel == "twilio" and rows[1].rating == -1 and rows[1].comment is None
    for row in rows:
        assert row.created_at.tzinfo is not None and row.created_at.utcoffset().total_seconds() == 0
        assert abs((datetime.now(timezone.utc) - row.created_at).total_seconds()) < 60


@pytest.mark.parametrize("bad", [
    Feedback("c", "socketio", "rating", 0), Feedback("c", "socketio", "rating", 6),
    Feedback("c", "socketio", "thumb", 2), Feedback("c", "socketio", "stars", 3),
    Feedback("", "socketio", "rating", 3), Feedback("c", "socketio", "rating", True),
    Feedback("c", "socketio", "rating", 3, comment="x" * 2001),
])
def test_store_refuses_bad_records(tmp_path, bad):
    store = sqlite_store(tmp_path / "tracker.db")
    with pytest.raises(ValueError):
        store.add(bad)
    assert store.all() == []


def test_the_database_itself_refuses_out_of_range_ratings(tmp_path):
    store = sqlite_store(tmp_path / "tracker.db")
    store.ensure_table()
    with sqlite3.connect(tmp_path / "tracker.db") as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO feedback (conversation_id, channel, kind, rating, created_at) "
                   "VALUES ('c', 'rest', 'thumb', 3, '2026-01-01T00:00:00Z')")


def test_store_shares_the_tracker_database_file_with_concurrent_writers(tmp_path):
    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as db:  # the tracker store's table is there first
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, "
                   "intent_name TEXT, action_name TEXT, data TEXT)")  # as Rasa 3.6 makes it
        db.execute("INSERT INTO events (sender_id, data) VALUES ('a', '{}')")
    store = sqlite_store(path)
    errors = []

    def writer(n):
        try:
            for i in range(15):
                store.add(Feedback(f"conv-{n}", "rest", "thumb", 1 if i % 2 else -1, answer_text=f"answer {i}"))
        except Exception as exc:
            errors.append(exc)

    def tracker_writer():  # Rasa writing events meanwhile
        for i in range(30):
            with sqlite3.connect(path, timeout=10) as db:
                db.execute("INSERT INTO events (sender_id, data) VALUES (?, '{}')", (f"s{i}",))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)] + [threading.Thread(target=tracker_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.all()) == 90
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 31
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_database_is_the_tracker_sqlite_file_and_urls_override(data_dir, monkeypatch):
    assert FeedbackStore.from_settings().url == f"sqlite:///{data_dir / 'tracker.db'}"
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://milea:secret@db:5432/milea")
    settings_module.get_settings.cache_clear()
    settings = settings_module.get_settings()
    assert FeedbackStore.from_settings().dialect == "postgresql"
    assert "secret" not in "\n".join(settings.describe())
    monkeypatch.setenv("FEEDBACK_DB_URL", "postgresql+psycopg2://u:p@other/feedback")
    settings_module.get_settings.cache_clear()
    assert FeedbackStore.from_settings().dsn == "postgresql://u:p@other/feedback"
    with pytest.raises(ValueError):
        FeedbackStore("mysql://x/y")


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server (skipped when the binaries are not installed)."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed")
    as_user = []
    folder = Path(tempfile.mkdtemp(prefix="milea-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser")
        try:
            shutil.chown(folder, "postgres")
        except (LookupError, PermissionError):
            pytest.skip("no postgres user to run PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    run = dict(capture_output=True, text=True, timeout=120)
    result = subprocess.run(as_user + [initdb, "-D", str(data), "-A", "trust", "-U", "milea"], **run)
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {result.stderr[-300:]}")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    result = subprocess.run(as_user + [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
                                       "start"], **run)
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {result.stderr[-300:]}")
    try:
        yield f"postgresql://milea@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], **run)
        shutil.rmtree(folder, ignore_errors=True)


def test_store_round_trip_on_postgresql(postgres_url):
    store = FeedbackStore(postgres_url)
    first = store.add(Feedback("conv-1", "socketio", "rating", 2, comment="Too warm",
                               answer_text="Our Cabernet Franc is $38.", question_text="how much is the cab franc"))
    store.add(Feedback("conv-1", "socketio", "thumb", 1, answer_text="We're open 12 to 5."))
    rows = FeedbackStore(postgres_url.replace("postgresql://", "postgresql+psycopg2://")).all()
    assert rows[0].id == first and rows[0].rating == 2 and rows[0].comment == "Too warm"
    assert rows[0].question_text == "how much is the cab franc"
    assert rows[1].kind == "thumb" and rows[1].created_at.utcoffset().total_seconds() == 0
    with pytest.raises(Exception):  # the CHECK constraint, past the Python checks
        with store.connection() as db:
            store.execute(db, "INSERT INTO feedback (conversation_id, channel, kind, rating, created_at) "
                               "VALUES ('c', 'rest', 'rating', 9, now())")


# ---------------------------------------------------------------- parsing

@pytest.mark.parametrize("text, rating", [
    ("5", 5), ("five", 5), ("5 stars", 5), ("4/5", 4), ("4 / 5", 4), ("4 out of 5", 4), ("Three", 3),
    ("I'd give it a 3", 3), (" 2 ", 2), ("1 star", 1), ("★★★★", 4), ("a solid four!", 4), ("5/5 stars", 5),
])
def test_ratings_understood(text, rating):
    assert parse_rating(text) == rating


@pytest.mark.parametrize("text", [
    "0", "6", "10", "4/10", "8 out of 10", "3 or 4", "great", "", None, "4.5", "someone helped", "★★★★★★",
    "/give_feedback",
])
def test_ratings_refused(text):
    assert parse_rating(text) is None


@pytest.mark.parametrize("text, comment", [
    ("skip", NO_COMMENT), ("no", NO_COMMENT), ("No thanks!", NO_COMMENT), ("nothing else", NO_COMMENT),
    ("nope", NO_COMMENT), ("no, the wine was too warm", "no, the wine was too warm"),
    ("The staff were  lovely", "The staff were lovely"), ("/ask_hours", None), ("", None),
])
def test_comments(text, comment):
    assert optional_comment(text) == comment


# ---------------------------------------------------------------- the form

def user(text, intent="nlu_fallback", channel="socketio", confidence=0.9):
    return {"event": "user", "text": text, "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": []}}


def bot(text):
    return {"event": "bot", "text": text}


def form_tracker(text, intent="nlu_fallback", slots=None, events=None, confidence=0.9, sender="web-1"):
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    slots = {"requested_slot": "rating", **(slots or {})}
    return Tracker(sender, slots, message, events or [user(text, intent, confidence=confidence)], False, None,
                   {"name": "feedback_form"}, "action_listen")


def run(action, tracker, domain=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or DOMAIN))
    return dispatcher.messages, events


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_rating_is_validated_and_the_comment_asked_next():
    t = form_tracker("4/5", events=[user("4/5"), {"event": "slot", "name": "rating", "value": "4/5"}])
    messages, events = run(ValidateFeedbackForm(), t)
    slots = slot_events(events)
    assert slots["rating"] == 4 and slots["requested_slot"] == "feedback_comment" and not messages


def test_a_bad_rating_gets_a_retry_then_the_explanation():
    validate = ValidateFeedbackForm()
    dispatcher = CollectingDispatcher()
    result = asyncio.run(validate.validate_rating("great", dispatcher, form_tracker("great"), DOMAIN))
    assert result["rating"] is None and "1 to 5" in dispatcher.messages[0]["text"]
    dispatcher = CollectingDispatcher()
    t = form_tracker("superb", slots={"form_failures": result["form_failures"]})
    result = asyncio.run(validate.validate_rating("superb", dispatcher, t, DOMAIN))
    assert result["rating"] is None and "1 (poor) to 5 (excellent)" in dispatcher.messages[0]["text"]


def test_skip_leaves_no_comment_and_a_comment_about_wine_is_a_comment():
    validate = ValidateFeedbackForm()
    slots = {"requested_slot": "feedback_comment", "rating": 5}
    result = asyncio.run(validate.validate_feedback_comment("skip", CollectingDispatcher(),
                                                            form_tracker("skip", "deny", slots), DOMAIN))
    assert result["feedback_comment"] == NO_COMMENT
    comment = "the riesling flight was the best part"
    result = asyncio.run(validate.validate_feedback_comment(
        comment, CollectingDispatcher(), form_tracker(comment, "ask_tastings", slots, confidence=0.95), DOMAIN))
    assert result["feedback_comment"] == comment


def test_never_mind_asks_to_confirm_the_stop():
    messages, events = run(ValidateFeedbackForm(), form_tracker("never mind", "stop"))
    slots = slot_events(events)
    assert slots["stop_requested"] is True and slots["requested_slot"] == "confirm_stop"


def test_the_rating_prompt_has_five_digit_buttons():
    # Rasa's form asks with the response utter_ask_feedback_form_rating (no custom ask action)
    assert "action_ask_feedback_form_rating" not in DOMAIN["actions"]
    [prompt] = DOMAIN["responses"]["utter_ask_feedback_form_rating"]
    assert [b["payload"] for b in prompt["buttons"]] == ["1", "2", "3", "4", "5"]


CONVERSATION = [
    {"event": "session_started"},
    user("what time do you open saturday", "ask_hours"),
    bot("On Saturday the tasting room is open 12:00 PM to 7:00 PM."),
    user("i'd like to leave some feedback", "give_feedback"),
    {"event": "active_loop", "name": "feedback_form"},
    bot("How would you rate your experience, from 1 (poor) to 5 (excellent)?"),
    user("2"), {"event": "slot", "name": "rating", "value": 2},
    user("the hours were wrong"), {"event": "active_loop", "name": None},
]


def submit_tracker(rating, comment, events=CONVERSATION, blocked=None, sender="web-42"):
    slots = {"rating": rating, "feedback_comment": comment, "form_blocked": blocked}
    last = next((e for e in reversed(events) if e["event"] == "user"), {})
    message = {"text": last.get("text"), **(last.get("parse_data") or {})}
    return Tracker(sender, slots, message, list(events), False, None, {}, "feedback_form")


def test_the_answer_before_the_feedback_request_is_found():
    answer, question = answer_before_feedback(submit_tracker(2, None))
    assert answer == "On Saturday the tasting room is open 12:00 PM to 7:00 PM."
    assert question == "what time do you open saturday"
    starts_with_feedback = [user("feedback please", "give_feedback"), {"event": "active_loop", "name": "feedback_form"}]
    assert answer_before_feedback(submit_tracker(5, None, starts_with_feedback)) == (None, None)


def test_low_rating_is_stored_with_the_answer_and_offers_a_person(data_dir):
    messages, events = run(ActionSubmitFeedback(), submit_tracker(2, "the hours were wrong"))
    assert "talk to a person" in messages[0]["text"] and messages[0]["buttons"][0]["payload"] == "/human_handoff"
    rows = FeedbackStore.from_settings().all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.conversation_id, row.channel, row.kind, row.rating) == ("web-42", "socketio", "rating", 2)
    assert row.comment == "the hours were wrong"
    assert row.answer_text.startswith("On Saturday") and row.question_text == "what time do you open saturday"
    assert all(e["value"] is None for e in events if e["event"] == "slot")  # the form is reset


def test_good_rating_without_comment_is_thanked(data_dir):
    messages, _ = run(ActionSubmitFeedback(), submit_tracker(5, NO_COMMENT))
    assert "Thank you for your feedback" in messages[0]["text"] and "person" not in messages[0]["text"]
    row = FeedbackStore.from_settings().all()[0]
    assert row.rating == 5 and row.comment is None


def test_a_stopped_form_stores_nothing(data_dir):
    messages, _ = run(ActionSubmitFeedback(), submit_tracker(None, None, blocked="stopped"))
    assert "nothing was saved" in messages[0]["text"]
    assert FeedbackStore.from_settings().all() == []


def test_storage_down_is_said_honestly(data_dir, monkeypatch):
    monkeypatch.setenv("FEEDBACK_DB_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    settings_module.get_settings.cache_clear()
    messages, _ = run(ActionSubmitFeedback(), submit_tracker(4, "nice"))
    assert "couldn't save" in messages[0]["text"] and "(845) 266-0384" in messages[0]["text"]


# ---------------------------------------------------------------- report

def test_report_csv_and_summary(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = FeedbackStore(url)
    add = store.add
    add(Feedback("c1", "socketio", "rating", 1, comment="=HYPERLINK(\"x\")", answer_text="A-bad",
                 question_text="Q-bad"))
    add(Feedback("c2", "twilio", "rating", 5, answer_text="A-good", question_text="Q-good"))
    add(Feedback("c3", "socketio", "thumb", -1, answer_text="A-bad", question_text="Q-bad"))
    add(Feedback("c4", "socketio", "thumb", 1, answer_text="A-good"))
    add(Feedback("c5", "socketio", "thumb", -1, answer_text="A-meh", question_text="Q-meh"))
    add(Feedback("c6", "socketio", "rating", 3, answer_text="A-meh"))
    add(Feedback("c7", "rest", "rating", 4))  # feedback given before any answer
    out = tmp_path / "results" / "feedback.csv"
    assert feedback_report.main(["--db", url, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7 and rows[0]["comment"].startswith("'=")  # no formula in a spreadsheet
    assert set(rows[0]) == {"id", "conversation_id", "channel", "kind", "rating", "comment", "answer_text",
                            "question_text", "created_at"}
    assert "Feedback records: 7" in printed
    assert "rating/socketio 2" in printed and "thumb/socketio 3" in printed and "rating/twilio 1" in printed
    assert "Average rating: 3.25 / 5 over 4 rating(s)" in printed
    assert "Thumbs: 1 up / 2 down (33% up)" in printed
    lowest = feedback_report.lowest_answers(store.all())
    assert [row["answer"] for row in lowest] == ["A-bad", "A-meh"]  # A-good scores a perfect +1
    assert lowest[0]["question"] == "Q-bad" and lowest[0]["score"] == -1
    assert printed.index("A: A-bad") < printed.index("A: A-meh") and "Q: Q-bad" in printed


def test_report_with_no_feedback(tmp_path, capsys):
    assert feedback_report.main(["--db", f"sqlite:///{tmp_path / 't.db'}", "--out", str(tmp_path / "f.csv")]) == 0
    assert "Feedback records: 0" in capsys.readouterr().out
    assert (tmp_path / "f.csv").read_text().startswith("id,conversation_id")
