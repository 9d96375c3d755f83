"""Durable outbox for Commerce7 writes that could not be made at once.

A signup or subscription that Commerce7 could not take is kept here (SQLite in
the data folder, or PostgreSQL in the production profile, where every process
sees the same jobs) and retried with backoff by the scheduler until it lands.
Each job has an idempotency key, so the same signup is never queued twice; a
due job is leased to one deliverer at a time; and the handlers look objects up
before creating them, so a retry after an ambiguous failure creates no duplicates.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from actions.database import Database

_COLUMNS = "id, kind, idempotency_key, payload, status, attempts, next_attempt_at, last_error"
_DDL = """CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | done | attention
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {real} NOT NULL,
    last_error TEXT,
    result TEXT,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL
)"""
_INDEX = "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)"
BACKOFF_BASE_S = float(os.environ.get("MILEA_OUTBOX_BACKOFF_S") or 15.0)
BACKOFF_MAX_S = 3600.0
# A claimed job is hidden from other deliverers this long; a deliverer that dies
# mid-job leaves it to come back after the lease, never lost.
LEASE_S = 120.0


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: float
    last_error: Optional[str]


class Outbox(Database):
    """The outbox table: a SQLite file (a Path or sqlite:/// URL) or PostgreSQL (shared by replicas)."""

    def __init__(self, target: Union[Path, str]) -> None:
        super().__init__(target)
        with self._connect() as db:
            self._execute(db, _DDL.format(real="REAL" if self.dialect == "sqlite" else "DOUBLE PRECISION"))
            self._execute(db, _INDEX)

    def enqueue(self, kind: str, key: str, payload: dict[str, Any], error: str = "", now: Optional[float] = None) -> Job:
        """Keep a job (once per key); returns the stored job."""
        now = time.time() if now is None else now
        with self._connect() as db:
            self._execute(
                db,
                "INSERT INTO outbox (id, kind, idempotency_key, payload, next_attempt_at, last_error,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (uuid.uuid4().hex, kind, key, json.dumps(payload), now + BACKOFF_BASE_S, error or None, now, now),
            )
        return self.get(key)  # type: ignore[return-value]

    def get(self, key: str) -> Optional[Job]:
        with self._connect() as db:
            row = self._execute(db, f"SELECT {_COLUMNS} FROM outbox WHERE idempotency_key = ?", (key,)).fetchone()
        return _job(row) if row else None

    def due(self, now: Optional[float] = None, limit: int = 20) -> list[Job]:
        """Claim the jobs that are due: each is handed to one deliverer at a time (a lease)."""
        now = time.time() if now is None else now
        pick = ("SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?")
        with self._connect() as db:  # SQLite: BEGIN IMMEDIATE already excludes other writers
            if self.dialect == "postgresql":
                pick += " FOR UPDATE SKIP LOCKED"
            ids = [r[0] for r in self._execute(db, pick, (now, limit)).fetchall()]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            self._execute(db, f"UPDATE outbox SET next_attempt_at = ? WHERE id IN ({marks})", (now + LEASE_S, *ids))
            rows = self._execute(db, f"SELECT {_COLUMNS} FROM outbox WHERE id IN ({marks})", tuple(ids)).fetchall()
        return sorted((_job(r) for r in rows), key=lambda j: ids.index(j.id))

    def mark_done(self, job: Job, result: dict[str, Any]) -> None:
        self._update(job, "done", job.attempts + 1, job.next_attempt_at, None, json.dumps(result))

    def mark_retry(self, job: Job, error: str, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * (2 ** job.attempts))
        self._update(job, "pending", job.attempts + 1, now + delay, error, None)

    def mark_attention(self, job: Job, error: str) -> None:
        """Commerce7 refused the data itself: staff must look; the job is kept, not dropped."""
        self._update(job, "attention", job.attempts + 1, job.next_attempt_at, error, None)

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            return dict(self._execute(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    def _update(self, job: Job, status: str, attempts: int, next_at: float, error: Optional[str],
                result: Optional[str]) -> None:
        with self._connect() as db:
            self._execute(db, "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
                              " result = COALESCE(?, result), updated_at = ? WHERE id = ?",
                          (status, attempts, next_at, error, result, time.time(), job.id))


def _job(row: tuple) -> Job:
    return Job(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7])
