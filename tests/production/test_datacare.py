"""Data care on both database kinds (SQLite files, PostgreSQL): a backup restores exactly what it held,
retention deletes what is older than RETENTION_DAYS and nothing newer, and forgetting one person
removes their conversations, feedback, outbox jobs and SMS menus and says what it removed.

The stores are written through the assistant's own classes (feedback, outbox, SMS state); the
conversation events go into the table Rasa's SQL tracker store uses (events: sender_id, type_name,
timestamp, data), which tests/production/test_datacare_cluster.py also checks against a live cluster."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.production.services import POSTGRES_URL, database_url, require

from core.paths import ROOT
DAY = 86400.0
NOW = time.time()
OLD, RECENT = NOW - 400 * DAY, NOW - 2 * DAY
EVENTS_DDL = ("CREATE TABLE IF NOT EXISTS events (id {serial} PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
              "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), "
              "data TEXT)")


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path, monkeypatch):
    """The environment of one assistant: its data folder, and its own PostgreSQL database for that kind."""
    monkeypatch.setenv("MILEA_DATA_DIR", str(tmp_path / "data"))
    for key in ("TRACKER_DB_URL", "FEEDBACK_DB_URL", "OUTBOX_DB_URL", "SMS_DB_URL", "CHROMA_URL", "OPENAI_API_KEY",
                "OPENAI_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    if request.param == "sqlite":
        yield {"MILEA_DATA_DIR": str(tmp_path / "data")}
        return
    require("PostgreSQL")
    import psycopg2

    name = f"milea_care_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(POSTGRES_URL)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("TRACKER_DB_URL", database_url(name))
    try:
        yield {"MILEA_DATA_DIR": str(tmp_path / "data"), "TRACKER_DB_URL": database_url(name)}
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def settings():
    from actions.settings import Settings

    return Settings.from_env()


def tracker_db():
    from jobs.datacare import Store

    s = settings()
    store = Store(s.feedback_database)  # the tracker's database: TRACKER_DB_URL or data/tracker.db
    store.run(EVENTS_DDL.format(serial="INTEGER" if store.dialect == "sqlite" else "SERIAL"))
    return store


def add_conversation(sender: str, at: float, *texts: str) -> None:
    store = tracker_db()
    for i, text in enumerate(texts):
        store.run("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                  [sender, "user", at + i, json.dumps({"event": "user", "text": text, "timestamp": at + i})])


def events_of(sender: str) -> int:
    return tracker_db().rows("SELECT COUNT(*) FROM events WHERE sender_id = ?", [sender])[0][0]


def fill(now: float = NOW) -> dict:
    """Two people, old and recent data of each kind."""
    from core.commerce7.outbox import Outbox
    from core.feedback_store import Feedback, FeedbackStore
    from channels.sms_store import SmsStore

    s = settings()
    add_conversation("+18455550100", OLD, "hi", "what time do you open?")
    add_conversation("+18455550100", RECENT, "hello again")
    add_conversation("web-ann", RECENT, "add me to the newsletter", "ann@example.com")
    add_conversation("web-bob", RECENT, "bob@example.com", "thanks")
    feedback = FeedbackStore.from_settings(s)
    feedback.add(Feedback("web-ann", "socketio", "thumb", 1, answer_text="We open at 11.",
                          created_at=datetime.now(timezone.utc)))
    feedback.add(Feedback("web-bob", "socketio", "rating", 5, comment="great",
                          created_at=datetime.now(timezone.utc) - timedelta(days=400)))
    outbox = Outbox(s.outbox_database)
    outbox.enqueue("newsletter", "ann", {"email": "ann@example.com"}, now=now)
    done = outbox.enqueue("newsletter", "bob", {"email": "bob@example.com"}, now=OLD)
    outbox.mark_done(done, {})
    from jobs.datacare import Store

    Store(s.outbox_database).run("UPDATE outbox SET updated_at = ? WHERE id = ?", [OLD, done.id])  # delivered long ago
    sms_url = s.feedback_db_url if s.feedback_db_url else Path(s.data_dir) / "sms.db"
    sms = SmsStore(sms_url)
    sms.set_buttons("+18455550100", [{"title": "Hours", "payload": "/ask_hours"}])
    sms.set_opted_out("+18455550199", True)  # someone who texted STOP
    return {"outbox": outbox, "feedback": feedback, "sms": sms}


def test_backup_and_restore_round_trip(env, tmp_path):
    from jobs import datacare

    stores = fill()
    archive = tmp_path / "backup.tar.gz"
    held = datacare.backup(settings(), archive)
    assert archive.exists() and oct(archive.stat().st_mode)[-3:] == "600"
    assert held  # at least the databases
    before = (events_of("web-ann"), len(stores["feedback"].all()), stores["outbox"].counts())
    # disaster: a conversation, the feedback and a job lost
    tracker_db().run("DELETE FROM events WHERE sender_id = ?", ["web-ann"])
    datacare.Store(settings().feedback_database).run("DELETE FROM feedback")
    datacare.Store(settings().outbox_database).run("DELETE FROM outbox")
    assert events_of("web-ann") == 0
    restored = datacare.restore(settings(), archive)
    assert restored
    after = (events_of("web-ann"), len(stores["feedback"].all()), stores["outbox"].counts())
    assert after == before and before[0] == 2 and before[1] == 2


def test_backup_round_trip_of_the_knowledge_index(tmp_path, monkeypatch):
    """The knowledge index comes back with its vectors: a query finds the same chunk after a restore."""
    from jobs import datacare

    monkeypatch.setenv("MILEA_DATA_DIR", str(tmp_path / "data"))
    for key in ("TRACKER_DB_URL", "CHROMA_URL", "FEEDBACK_DB_URL", "OUTBOX_DB_URL"):
        monkeypatch.delenv(key, raising=False)
    s = settings()
    from core.knowledge.store import get_collection, make_client

    collection = get_collection(make_client(s), "test-embedder")
    collection.add(ids=["dogs", "hours"], embeddings=[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                   documents=["Dogs on a leash are welcome.", "Open 11 to 6."], metadatas=[{"f": "a"}, {"f": "b"}])
    archive = tmp_path / "k.tar.gz"
    assert "knowledge/" + collection.name in datacare.backup(s, archive)
    make_client(s).delete_collection(collection.name)
    datacare.restore(s, archive)
    back = make_client(s).get_collection(collection.name, embedding_function=None)
    found = back.query(query_embeddings=[[0.9, 0.1, 0.0]], n_results=1)
    assert found["ids"] == [["dogs"]] and found["documents"] == [["Dogs on a leash are welcome."]]
    assert back.metadata.get("hnsw:space") == "cosine"


def test_retention_deletes_only_what_is_older_than_the_limit(env):
    from jobs import datacare

    stores = fill()
    removed = datacare.retention(settings(), days=365)
    assert removed["conversation events"] == 2  # the two old SMS turns
    assert removed["feedback"] == 1 and removed["outbox jobs"] == 1
    assert events_of("+18455550100") == 1 and events_of("web-ann") == 2
    assert [f.conversation_id for f in stores["feedback"].all()] == ["web-ann"]
    assert stores["outbox"].counts().get("pending") == 1
    assert stores["sms"].opted_out("+18455550199")  # a STOP stays a STOP
    assert datacare.retention(settings(), days=365) == {k: 0 for k in removed}


def test_forget_removes_one_person_everywhere_and_says_what(env):
    stores = fill()
    out = subprocess.run([sys.executable, "-m", "jobs.datacare", "forget", "ann@example.com"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "conversations: 1 (2 events) deleted" in out.stdout
    assert "feedback: 1 entries deleted" in out.stdout and "outbox: 1 jobs deleted" in out.stdout
    assert events_of("web-ann") == 0 and events_of("web-bob") == 2
    assert [f.conversation_id for f in stores["feedback"].all()] == ["web-bob"]
    assert stores["outbox"].get("ann") is None and stores["outbox"].get("bob") is not None

    out = subprocess.run([sys.executable, "-m", "jobs.datacare", "forget", "(845) 555-0100"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "conversations: 1 (3 events) deleted" in out.stdout and "SMS menus: 1 deleted" in out.stdout
    assert "opt-out" not in out.stdout
    assert events_of("+18455550100") == 0 and stores["sms"].buttons("+18455550100") == []

    out = subprocess.run([sys.executable, "-m", "jobs.datacare", "forget", "+1 845 555 0199"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert "SMS opt-out: kept, so this number is never texted again" in out.stdout
    assert stores["sms"].opted_out("+18455550199")


def test_forget_refuses_what_is_not_a_person():
    from jobs import datacare

    for bad in ("", "someone", "12", "a@b"):
        with pytest.raises(ValueError):
            datacare.identities(bad)
    assert "+18455550100" in datacare.identities("845.555.0100")


def test_the_jobs_process_runs_the_retention_pass(env, monkeypatch):
    """jobs/scheduler.py deletes old data on its daily pass (here: the pass falls due at once)."""
    import asyncio

    from jobs import scheduler

    fill()
    monkeypatch.setenv("RETENTION_DAYS", "30")
    real_next = scheduler.next_sync
    monkeypatch.setattr(scheduler, "next_sync", lambda now, at=scheduler.SYNC_AT, tz=scheduler.NY: (
        now - timedelta(seconds=1) if at == scheduler.RETENTION_AT else real_next(now, at, tz)))

    async def no_outbox(*_args) -> None:  # Commerce7 is not part of this test
        return None

    monkeypatch.setattr(scheduler, "run_outbox", no_outbox)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.main(stop))
        deadline = time.monotonic() + 30
        while events_of("+18455550100") != 1 and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 30)

    asyncio.run(run())
    assert events_of("+18455550100") == 1 and events_of("web-ann") == 2
