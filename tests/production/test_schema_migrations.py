"""The schema on the real PostgreSQL: replicas starting together on an empty database (once a
UniqueViolation on pg_type when two replicas raced to CREATE TABLE), a database the
pre-versioning code made, and feedback written once per turn by racing replays."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import psycopg2

from core import migrations
from core.commerce7.outbox import Outbox
from core.feedback_store import Feedback, FeedbackStore
from tests.production.test_shared_state import pg_url  # noqa: F401 - the fixture

from core.paths import ROOT
ALL = [v for v, _, _ in migrations.MIGRATIONS]

OLD_POSTGRES_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS feedback (
    id BIGSERIAL PRIMARY KEY, conversation_id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
    rating SMALLINT NOT NULL, comment TEXT, answer_text TEXT, question_text TEXT, created_at TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'rating' AND rating BETWEEN 1 AND 5) OR (kind = 'thumb' AND rating IN (-1, 1))))""",
    "CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at)",
    """CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL, last_error TEXT, result TEXT,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS sms_handled (sid TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sms_handled_at ON sms_handled (at)",
    "CREATE TABLE IF NOT EXISTS sms_opt_out (phone TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sms_buttons (phone TEXT PRIMARY KEY, buttons TEXT NOT NULL, "
    "at DOUBLE PRECISION NOT NULL)",
]


def versions(url: str) -> list:
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute("SELECT version FROM schema_version ORDER BY version")
        return [r[0] for r in cursor.fetchall()]


def test_replicas_starting_together_on_an_empty_database_all_start(pg_url, tmp_path):
    env = {**os.environ, "TRACKER_DB_URL": pg_url, "MILEA_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for key in ("FEEDBACK_DB_URL", "OUTBOX_DB_URL", "SMS_DB_URL"):
        env.pop(key, None)
    # the start-up step of make run / make cluster, and stores opened directly (a tool, the SMS channel)
    commands = [[sys.executable, "-m", "scripts.migrate"]] * 4 + [
        [sys.executable, "-c", f"from channels.sms_store import SmsStore; SmsStore({pg_url!r})"]] * 2 + [
        [sys.executable, "-c", f"from core.commerce7.outbox import Outbox; Outbox({pg_url!r})"]] * 2
    starts = [subprocess.Popen(c, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for c in commands]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in starts]
    assert [r[2] for r in results] == [0] * len(commands), [r[1][-800:] for r in results if r[2]]
    assert versions(pg_url) == ALL  # each migration applied exactly once


def test_a_database_made_by_the_pre_versioning_code_is_upgraded(pg_url):
    with psycopg2.connect(pg_url) as db, db.cursor() as cursor:
        for ddl in OLD_POSTGRES_SCHEMA:
            cursor.execute(ddl)
        cursor.execute("INSERT INTO feedback (conversation_id, channel, kind, rating, created_at) "
                       "VALUES ('c1', 'twilio', 'rating', 5, now())")
        cursor.execute("INSERT INTO outbox (id, kind, idempotency_key, payload, status, next_attempt_at, "
                       "created_at, updated_at) VALUES ('j1', 'club_signup', 'club:abc', '{}', 'attention', 0, 0, 0)")
    assert migrations.upgrade(pg_url) == ALL
    assert migrations.upgrade(pg_url) == []
    [row] = FeedbackStore(pg_url).all()
    assert row.rating == 5 and row.turn_key is None
    assert [j.id for j in Outbox(pg_url).refused_jobs()] == ["j1"]


def test_racing_replays_of_one_turn_store_one_feedback_row(pg_url):
    store = FeedbackStore(pg_url)
    ids: list = []

    def replay() -> None:
        ids.append(store.add(Feedback("web-9", "socketio", "rating", 2, comment="cold", turn_key="msg-1")))

    threads = [threading.Thread(target=replay) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ids) == 6 and len(set(ids)) == 1
    store.add(Feedback("web-9", "socketio", "rating", 4, turn_key="msg-2"))  # the next turn is its own row
    assert [(r.rating, r.turn_key) for r in store.all()] == [(2, "msg-1"), (4, "msg-2")]


def test_replicas_racing_on_one_turn_or_one_sms_act_once(pg_url, handoff_waits):
    import asyncio

    from actions.handoff_notices import notify_once
    from channels.sms_store import LEASE_S, SmsStore
    from tests.waiting import wait_until_async

    sent: list = []

    async def notify():
        sent.append(1)
        # still sending when the other three replicas are told to wait
        await wait_until_async(lambda: len(handoff_waits) >= 3, 10, "the 3 other replicas told to wait")
        return {"sms": True}

    outcomes: list = []
    threads = [threading.Thread(target=lambda: outcomes.append(
        asyncio.run(notify_once(pg_url, "web-7", "m-7", 5.0, notify)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sent == [1] and outcomes == [{"sms": True}] * 4

    stores = [SmsStore(pg_url) for _ in range(2)]
    assert stores[0].receive("SMx", "+15550009999", "hours?", 0, now=1000.0)
    later = 1000.0 + 2 * LEASE_S  # the first replica died: the others share the recovery
    found = []
    threads = [threading.Thread(target=lambda s=s: found.extend(s.unfinished(now=later))) for s in stores * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert found == [("SMx", "+15550009999", "hours?", 0)]
