"""Versioned schema of the project's own tables (feedback, outbox, SMS state, hand-off notices,
verification codes, SMS that could not be sent, SMS consent, campaigns and the outgoing SMS queue,
Commerce7 webhook events).

Each database (the SQLite files of `make run`, or the one PostgreSQL database of the
production profile) records the migrations it has in `schema_version`. `upgrade(url)`
applies the missing ones in order, in one transaction, holding a lock that makes any other
migrator wait (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-level advisory lock), so
two processes starting on an empty database never race to create the same table.

`scripts/migrate.py` (called by `make run` and `make cluster` before any server starts) runs
it for every configured database; the stores only check, once per process, that their
database is current, and upgrade it under the same lock when it is not (a tool or test that
opens a store on a fresh file).

Migration 1 is the schema the stores created themselves before versioning (CREATE ... IF NOT
EXISTS), so a database made by that code upgrades in place. Add a migration at the end, never
edit one that shipped; table and column names only grow (the staff console reads them).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

from core.database import Database
from core.mixed_conversations import reset_mixed_conversations

log = logging.getLogger(__name__)
ADVISORY_LOCK_ID = 7_286_001  # any constant shared by every migrator of this project

_TYPES = {
    "sqlite": {"real": "REAL", "pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ts": "TEXT", "small": "INTEGER"},
    "postgresql": {"real": "DOUBLE PRECISION", "pk": "BIGSERIAL PRIMARY KEY", "ts": "TIMESTAMPTZ",
                   "small": "SMALLINT"},
}
_RATING_CHECK = "CHECK ((kind = 'rating' AND rating BETWEEN 1 AND 5) OR (kind = 'thumb' AND rating IN (-1, 1)))"

# (version, what it does, statements); {real} {pk} {ts} {small} are the dialect's types; a statement
# that is a function is a data migration, called with (db, conn) inside the same transaction.
MIGRATIONS: Sequence[Tuple[int, str, Sequence[Any]]] = (
    (1, "feedback, outbox and SMS state as created before versioning", (
        f"""CREATE TABLE IF NOT EXISTS feedback (
            id {{pk}}, conversation_id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL,
            rating {{small}} NOT NULL, comment TEXT, answer_text TEXT, question_text TEXT,
            created_at {{ts}} NOT NULL, {_RATING_CHECK})""",
        "CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at)",
        """CREATE TABLE IF NOT EXISTS outbox (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at {real} NOT NULL, last_error TEXT, result TEXT,
            created_at {real} NOT NULL, updated_at {real} NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)",
        "CREATE TABLE IF NOT EXISTS sms_handled (sid TEXT PRIMARY KEY, at {real} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS sms_handled_at ON sms_handled (at)",
        "CREATE TABLE IF NOT EXISTS sms_opt_out (phone TEXT PRIMARY KEY, at {real} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sms_buttons (phone TEXT PRIMARY KEY, buttons TEXT NOT NULL, at {real} NOT NULL)",
    )),
    (2, "feedback: one row per customer turn (turn_key)", (
        "ALTER TABLE feedback ADD COLUMN turn_key TEXT",
        "CREATE UNIQUE INDEX feedback_turn ON feedback (conversation_id, turn_key)",
    )),
    (3, "outbox: jobs keyed by request, refused jobs kept for staff", (
        "ALTER TABLE outbox ADD COLUMN subject_key TEXT",
        "UPDATE outbox SET subject_key = idempotency_key",
        "UPDATE outbox SET status = 'refused' WHERE status = 'attention'",
        "CREATE INDEX outbox_subject ON outbox (subject_key)",
    )),
    (4, "sms_handled: a message is done only after its turn is stored", (
        "ALTER TABLE sms_handled ADD COLUMN status TEXT NOT NULL DEFAULT 'done'",
        "ALTER TABLE sms_handled ADD COLUMN sender TEXT",
        "ALTER TABLE sms_handled ADD COLUMN body TEXT",
        "ALTER TABLE sms_handled ADD COLUMN media INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX sms_handled_status ON sms_handled (status, at)",
    )),
    (5, "handoff_notice: staff told once per customer turn", (
        """CREATE TABLE handoff_notice (
            conversation_id TEXT NOT NULL, turn_key TEXT NOT NULL, status TEXT NOT NULL,
            results TEXT, created_at {real} NOT NULL, updated_at {real} NOT NULL,
            PRIMARY KEY (conversation_id, turn_key))""",
    )),
    (6, "verification_codes: one-time codes that prove who owns an account (hashed, never the code)", (
        """CREATE TABLE verification_codes (
            id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, sender_key TEXT NOT NULL, code_hash TEXT NOT NULL,
            created_at {real} NOT NULL, expires_at {real} NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            used_at {real})""",
        "CREATE INDEX verification_codes_recent ON verification_codes (customer_id, created_at)",
        "CREATE INDEX verification_codes_sender ON verification_codes (sender_key, created_at)",
    )),
    (7, "sms_failed: SMS Twilio would not take after every retry, for staff to follow up", (
        """CREATE TABLE sms_failed (
            id {pk}, phone TEXT NOT NULL, reason TEXT NOT NULL, failed_at {real} NOT NULL, dismissed_at {real})""",
        "CREATE INDEX sms_failed_open ON sms_failed (dismissed_at, failed_at)",
    )),
    (8, "SMS consent ledger with its audit trail; campaigns, the outgoing SMS queue, Commerce7 webhook events", (
        """CREATE TABLE sms_consent (
            phone TEXT PRIMARY KEY, status TEXT NOT NULL, source TEXT NOT NULL, at {real} NOT NULL,
            asked_at {real})""",
        """CREATE TABLE sms_consent_log (
            id {pk}, phone TEXT NOT NULL, at {real} NOT NULL, status TEXT NOT NULL, channel TEXT NOT NULL,
            words TEXT NOT NULL, source TEXT NOT NULL, actor TEXT NOT NULL, consented_at {real})""",
        "CREATE INDEX sms_consent_log_phone ON sms_consent_log (phone, at)",
        "CREATE INDEX sms_consent_log_at ON sms_consent_log (at)",
        # numbers that texted STOP before the ledger existed stay out (an import must never bring them back)
        "INSERT INTO sms_consent (phone, status, source, at) SELECT phone, 'out', 'opted out before the ledger', at "
        "FROM sms_opt_out",
        "INSERT INTO sms_consent_log (phone, at, status, channel, words, source, actor) SELECT phone, at, 'out', "
        "'sms', 'STOP', 'opted out before the ledger', 'customer' FROM sms_opt_out",
        """CREATE TABLE campaigns (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, audience TEXT NOT NULL,
            status TEXT NOT NULL, send_at {real}, created_by TEXT NOT NULL, created_at {real} NOT NULL,
            sent_by TEXT, started_at {real}, resolved_at {real}, finished_at {real}, error TEXT)""",
        "CREATE INDEX campaigns_status ON campaigns (status, send_at)",
        """CREATE TABLE sms_outgoing (
            id {pk}, dedupe_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, campaign_id TEXT, phone TEXT NOT NULL,
            body TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, sid TEXT, created_at {real} NOT NULL,
            claimed_at {real}, sent_at {real}, updated_at {real} NOT NULL, buttons TEXT)""",
        "CREATE INDEX sms_outgoing_due ON sms_outgoing (status, id)",
        "CREATE INDEX sms_outgoing_campaign ON sms_outgoing (campaign_id, status)",
        "CREATE INDEX sms_outgoing_phone ON sms_outgoing (phone, sent_at)",
        "CREATE INDEX sms_outgoing_sid ON sms_outgoing (sid)",
        """CREATE TABLE c7_events (
            event_key TEXT PRIMARY KEY, object TEXT NOT NULL, action TEXT NOT NULL, object_id TEXT NOT NULL,
            payload TEXT NOT NULL, status TEXT NOT NULL, result TEXT, received_at {real} NOT NULL,
            processed_at {real}, attempts INTEGER NOT NULL DEFAULT 0)""",
        "CREATE INDEX c7_events_due ON c7_events (status, received_at)",
        """CREATE TABLE club_choices (
            phone TEXT NOT NULL, package_id TEXT NOT NULL, club TEXT NOT NULL, choice TEXT NOT NULL,
            at {real} NOT NULL, PRIMARY KEY (phone, package_id))""",
    )),
    (9, "conversations written through several channels before each had its own ids: forms and slots reset", (
        reset_mixed_conversations,
    )),
)
LATEST = MIGRATIONS[-1][0]

_current: set[str] = set()
_current_lock = threading.Lock()


def _version_table(db: Database) -> str:
    return f"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, " \
           f"applied_at {_TYPES[db.dialect]['real']} NOT NULL)"


def upgrade(url: str) -> List[int]:
    """Apply the missing migrations to the database at `url`; returns the versions applied now.

    Args:
        url: sqlite:///<path> or postgresql://...
    Returns:
        the versions applied by this call (empty when the database was current).
    """
    db = Database(url)
    applied: List[int] = []
    with db.connection() as conn:  # SQLite: BEGIN IMMEDIATE already excludes every other writer
        if db.dialect == "postgresql":
            db.execute(conn, "SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK_ID,))
        db.execute(conn, _version_table(db))
        have = db.execute(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        for version, name, statements in MIGRATIONS:
            if version <= have:
                continue
            for statement in statements:
                if callable(statement):  # a data migration: statement(db, conn)
                    statement(db, conn)
                else:
                    db.execute(conn, statement.format(**_TYPES[db.dialect]))
            db.execute(conn, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, time.time()))
            applied.append(version)
    with _current_lock:
        _current.add(url)
    if applied:
        log.info("%s: schema migrations %s applied (now at version %d)", db.label, applied, LATEST)
    return applied


def version(url: str) -> int:
    """The database's schema version (0 when it has none)."""
    db = Database(url)
    exists = ("SELECT to_regclass('schema_version') IS NOT NULL" if db.dialect == "postgresql" else
              "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    with db.connection(write=False) as conn:
        if not db.execute(conn, exists).fetchone()[0]:
            return 0
        return int(db.execute(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def ensure(url: str) -> None:
    """Once per process: the database at `url` is at LATEST (upgraded under the migration lock if not)."""
    if url in _current:
        return
    if version(url) < LATEST:
        upgrade(url)
    with _current_lock:
        _current.add(url)


def upgrade_all(urls: Sequence[str], say: Callable[[str], None] = log.info) -> Dict[str, List[int]]:
    """Upgrade each distinct database once; one line per database that changed."""
    done: Dict[str, List[int]] = {}
    for url in dict.fromkeys(urls):
        done[url] = upgrade(url)
        if done[url]:
            say(f"{Database(url).label}: schema at version {LATEST} (applied {', '.join(map(str, done[url]))})")
    return done
