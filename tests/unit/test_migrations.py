"""Versioned schema migrations on SQLite: a fresh file, a database the pre-versioning code made
(with rows in it), several processes migrating at once, and the start-up step of `make run`."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from core import migrations
from core.commerce7.outbox import Outbox
from core.feedback_store import FeedbackStore
from channels.sms_store import SmsStore

from core.paths import ROOT

# The tables exactly as the stores created them themselves before migrations existed.
OLD_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
    rating INTEGER NOT NULL, comment TEXT, answer_text TEXT, question_text TEXT, created_at TEXT NOT NULL,
    CHECK ((kind = 'rating' AND rating BETWEEN 1 AND 5) OR (kind = 'thumb' AND rating IN (-1, 1))))""",
    "CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at)",
    """CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL,
    last_error TEXT, result TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS sms_handled (sid TEXT PRIMARY KEY, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sms_handled_at ON sms_handled (at)",
    "CREATE TABLE IF NOT EXISTS sms_opt_out (phone TEXT PRIMARY KEY, at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sms_buttons (phone TEXT PRIMARY KEY, buttons TEXT NOT NULL, at REAL NOT NULL)",
]


def tables(path: Path) -> set:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_fresh_file_gets_every_table_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert migrations.upgrade(url) == [v for v, _, _ in migrations.MIGRATIONS]
    assert migrations.upgrade(url) == []  # already current: nothing runs twice
    assert migrations.version(url) == migrations.LATEST
    assert {"feedback", "outbox", "sms_handled", "sms_opt_out", "sms_buttons", "handoff_notice",
            "schema_version"} <= tables(tmp_path / "new.db")
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_database_made_by_the_pre_versioning_code_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for ddl in OLD_SCHEMA:
            db.execute(ddl)
        db.execute("INSERT INTO feedback (conversation_id, channel, kind, rating, created_at) "
                   "VALUES ('c1', 'rest', 'rating', 4, '2026-01-01T00:00:00.000000Z')")
        db.execute("INSERT INTO outbox (id, kind, idempotency_key, payload, status, next_attempt_at, last_error,"
                   " created_at, updated_at) VALUES ('j1', 'subscribe', 'subscribe:abc', '{}', 'attention', 0,"
                   " '422 validationError', 0, 0)")
        db.execute("INSERT INTO sms_handled VALUES ('SMold', 1e12)")
    url = f"sqlite:///{path}"
    assert migrations.upgrade(url) == [v for v, _, _ in migrations.MIGRATIONS]
    [row] = FeedbackStore(url).all()
    assert (row.conversation_id, row.rating, row.turn_key) == ("c1", 4, None)
    outbox = Outbox(path)
    [refused] = outbox.refused_jobs()  # 'attention' is now 'refused', reason kept
    assert refused.id == "j1" and refused.last_error == "422 validationError"
    assert outbox.get("subscribe:abc").id == "j1"
    assert not SmsStore(url).receive("SMold", "+15550000000", "hi", 0, now=1e12)  # handled stays handled


def test_processes_starting_together_on_an_empty_file_all_succeed(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "MILEA_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    for key in ("TRACKER_DB_URL", "FEEDBACK_DB_URL", "OUTBOX_DB_URL", "SMS_DB_URL"):
        env.pop(key, None)
    starts = [subprocess.Popen([sys.executable, "-m", "scripts.migrate"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in starts]
    assert [r[2] for r in results] == [0, 0, 0, 0], [r[1][-500:] for r in results]
    for name in ("tracker.db", "outbox.db", "sms.db"):
        with sqlite3.connect(data / name) as db:
            versions = [r[0] for r in db.execute("SELECT version FROM schema_version ORDER BY version")]
        assert versions == [v for v, _, _ in migrations.MIGRATIONS]  # each applied exactly once
    said = "".join(r[0] for r in results)
    assert said.count("tracker.db: schema at version") == 1  # one process did the work


def test_make_run_migrates_before_it_starts_any_server():
    source = (ROOT / "scripts" / "run.py").read_text()
    main = source[source.index("def main("):]
    assert "migrate(say)" in main and main.index("migrate(say)") < main.index(".start()")


def test_the_cluster_migrates_once_before_any_server_that_uses_the_database():
    """make cluster and docker compose: the one-shot `migrate` service, which every server waits for."""
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["migrate"]["command"][-2:] == ["-m", "scripts.migrate"]
    for name, service in services.items():
        uses_database = any("TRACKER_DB_URL" in str(v) for v in (service.get("environment") or {}).keys())
        if uses_database and name != "migrate" and "command" in service and name not in ("index", "commerce7-demo"):
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name


def test_stores_no_longer_create_tables_themselves():
    for module in ("core/feedback_store.py", "core/commerce7/outbox.py", "channels/sms_store.py"):
        assert "CREATE TABLE" not in (ROOT / module).read_text(), module
