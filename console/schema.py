"""The console's tables, created at start-up beside Rasa's `events` table (idempotent)."""
from __future__ import annotations

import logging

from console.db import ConsoleDB

log = logging.getLogger(__name__)

_TABLES = (
    """CREATE TABLE IF NOT EXISTS console_users (
        id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('staff', 'admin')), password_hash TEXT NOT NULL,
        created_at {real} NOT NULL, disabled INTEGER NOT NULL DEFAULT 0)""",
    # per lower-cased email, known or not: a lockout says nothing about which accounts exist
    """CREATE TABLE IF NOT EXISTS console_login_failures (
        email TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until {real} NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS console_sessions (
        token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, csrf TEXT NOT NULL, kind TEXT NOT NULL,
        created_at {real} NOT NULL, last_seen {real} NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS console_takeovers (
        sender_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, user_name TEXT NOT NULL, at {real} NOT NULL)""",
    # one row per conversation, folded from the events table by console/summaries.py
    """CREATE TABLE IF NOT EXISTS console_conversations (
        sender_id TEXT PRIMARY KEY, channel TEXT NOT NULL DEFAULT '', started_at {real} NOT NULL,
        last_at {real} NOT NULL, last_event_id {bigint} NOT NULL, turns INTEGER NOT NULL DEFAULT 0,
        last_text TEXT NOT NULL DEFAULT '', search TEXT NOT NULL DEFAULT '', handoff_at {real},
        fallbacks INTEGER NOT NULL DEFAULT 0, negative INTEGER NOT NULL DEFAULT 0,
        paused INTEGER NOT NULL DEFAULT 0, handled_at {real})""",
    # per day (the winery's time zone) counters for the overview: metric/key/n, folded with the summaries
    """CREATE TABLE IF NOT EXISTS console_daily (
        day TEXT NOT NULL, metric TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, metric, key))""",
    # questions the assistant fell back on or answered with a thumbs down: the knowledge gaps' input
    """CREATE TABLE IF NOT EXISTS console_questions (
        sender_id TEXT NOT NULL, at {real} NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, answer TEXT)""",
    "CREATE INDEX IF NOT EXISTS console_questions_at ON console_questions (at)",
    """CREATE TABLE IF NOT EXISTS console_jobs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, started_at {real} NOT NULL, finished_at {real},
        status TEXT NOT NULL, progress TEXT NOT NULL DEFAULT '', summary TEXT, started_by TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS console_cursors (name TEXT PRIMARY KEY, value {bigint} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS console_conversations_last ON console_conversations (last_at DESC)",
    "CREATE INDEX IF NOT EXISTS console_conversations_channel ON console_conversations (channel, last_at DESC)",
    "CREATE INDEX IF NOT EXISTS console_conversations_handoff ON console_conversations (handoff_at)",
    "CREATE INDEX IF NOT EXISTS console_sessions_user ON console_sessions (user_id)",
)


def create(db: ConsoleDB) -> None:
    real = "REAL" if db.dialect == "sqlite" else "DOUBLE PRECISION"
    bigint = "INTEGER" if db.dialect == "sqlite" else "BIGINT"
    with db.transaction() as tx:
        for ddl in _TABLES:
            tx.run(ddl.format(real=real, bigint=bigint))
    if db.dialect == "postgresql":
        _trigram_index(db)


def _trigram_index(db: ConsoleDB) -> None:
    """Search by any fragment of text, phone or email stays fast on PostgreSQL with pg_trgm."""
    try:
        with db.transaction() as tx:
            tx.run("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            tx.run("CREATE INDEX IF NOT EXISTS console_conversations_search ON console_conversations "
                   "USING gin (search gin_trgm_ops)")
    except Exception as exc:  # no permission for the extension: search scans the summary table
        log.warning("console: search index not created (%s): search scans the summaries", type(exc).__name__)


def index_events(db: ConsoleDB) -> bool:
    """The transcript reads one conversation's events in order: an index for it (once Rasa made the table)."""
    if not db.table_exists("events"):
        return False
    db.run("CREATE INDEX IF NOT EXISTS console_events_sender ON events (sender_id, id)")
    return True
