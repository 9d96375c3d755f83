"""Durable outbox for Commerce7 writes that could not be made at once.

A signup or subscription that Commerce7 could not take is kept here (SQLite in
the data folder, or PostgreSQL in the production profile, where every process
sees the same jobs) and retried with backoff by the scheduler until it lands.
Each job has an idempotency key made of the request itself (its content and the
conversation turn that asked), so an exact replay of the same request is queued once
while a later, different request for the same customer is its own job; a
due job is leased to one deliverer at a time; and the handlers look objects up
before creating them, so a retry after an ambiguous failure creates no duplicates.
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from core import migrations
from core.database import Database
from core.settings import shared_settings

_COLUMNS = "id, kind, idempotency_key, payload, status, attempts, next_attempt_at, last_error"
# Statuses: pending (to deliver), done, refused (Commerce7 refused the data: kept for staff, who
# retry or cancel it), cancelled (by staff). The table is created by core.migrations.
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
        self.backoff_base_s = shared_settings().outbox_backoff_s
        migrations.ensure(self.url)

    @staticmethod
    def request_key(key: str, payload: dict[str, Any], request: str = "") -> str:
        """The idempotency key of one request: the subject key, the content and the asking turn."""
        content = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return f"{key}:" + hashlib.sha256(f"{content}|{request}".encode()).hexdigest()[:24]

    def enqueue(self, kind: str, key: str, payload: dict[str, Any], error: str = "", now: Optional[float] = None,
                request: str = "") -> Job:
        """Keep a job once per request; returns the stored job.

        Args:
            key: what the job is about (e.g. the customer's email and tier); the staff query by it.
            payload: the job's data; part of the idempotency key.
            request: the conversation turn that asked (actions.turns.turn_key): the same data asked
                again in a later turn is a new job, a replay of the same turn is not.
        """
        now = time.time() if now is None else now
        idem = self.request_key(key, payload, request)
        with self._connect() as db:
            self.execute(
                db,
                "INSERT INTO outbox (id, kind, idempotency_key, subject_key, payload, next_attempt_at, last_error,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (uuid.uuid4().hex, kind, idem, key, json.dumps(payload), now + self.backoff_base_s, error or None, now, now),
            )
        return self.get(idem)  # type: ignore[return-value]

    def get(self, key: str) -> Optional[Job]:
        """The job with this idempotency key, else the newest job about this subject key."""
        with self._connect(write=False) as db:
            row = self.execute(db, f"SELECT {_COLUMNS} FROM outbox WHERE idempotency_key = ?", (key,)).fetchone()
            row = row or self.execute(db, f"SELECT {_COLUMNS} FROM outbox WHERE subject_key = ?"
                                           " ORDER BY created_at DESC, id LIMIT 1", (key,)).fetchone()
        return _job(row) if row else None

    def by_id(self, job_id: str) -> Optional[Job]:
        with self._connect(write=False) as db:
            row = self.execute(db, f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def due(self, now: Optional[float] = None, limit: int = 20) -> list[Job]:
        """Claim the jobs that are due: each is handed to one deliverer at a time (a lease)."""
        now = time.time() if now is None else now
        pick = ("SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?")
        with self._connect() as db:  # SQLite: BEGIN IMMEDIATE already excludes other writers
            if self.dialect == "postgresql":
                pick += " FOR UPDATE SKIP LOCKED"
            ids = [r[0] for r in self.execute(db, pick, (now, limit)).fetchall()]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            self.execute(db, f"UPDATE outbox SET next_attempt_at = ? WHERE id IN ({marks})", (now + LEASE_S, *ids))
            rows = self.execute(db, f"SELECT {_COLUMNS} FROM outbox WHERE id IN ({marks})", tuple(ids)).fetchall()
        return sorted((_job(r) for r in rows), key=lambda j: ids.index(j.id))

    def claim_new(self, job: Job, now: Optional[float] = None) -> bool:
        """Take a job just enqueued (never tried) for delivery at once: one caller wins, and the lease hides
        it from the deliverers meanwhile (a replayed request finds it taken)."""
        now = time.time() if now is None else now
        # untouched since it was enqueued (updated_at = created_at): the claim touches it, so a replay that
        # reads the job after the claim cannot claim it again
        with self._connect() as db:
            cursor = self.execute(db, "UPDATE outbox SET next_attempt_at = ?, updated_at = CASE WHEN ? > created_at"
                                      " THEN ? ELSE created_at + 0.001 END WHERE id = ? AND status = 'pending' AND"
                                      " attempts = 0 AND updated_at = created_at",
                                  (now + LEASE_S, now, now, job.id))
            return bool(cursor.rowcount == 1)

    def result_of(self, job_id: str) -> Optional[dict[str, Any]]:
        """What a delivered job left (mark_done's result), or None."""
        with self._connect(write=False) as db:
            row = self.execute(db, "SELECT result FROM outbox WHERE id = ?", (job_id,)).fetchone()
        try:
            return json.loads(row[0]) if row and row[0] else None
        except ValueError:
            return None

    def mark_done(self, job: Job, result: dict[str, Any]) -> None:
        self._update(job, "done", job.attempts + 1, job.next_attempt_at, None, json.dumps(result))

    def mark_retry(self, job: Job, error: str, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        delay = min(BACKOFF_MAX_S, self.backoff_base_s * (2 ** job.attempts))
        self._update(job, "pending", job.attempts + 1, now + delay, error, None)

    def mark_refused(self, job: Job, error: str) -> None:
        """Commerce7 refused the data itself: kept with the reason for staff (refused_jobs), not retried."""
        self._update(job, "refused", job.attempts + 1, job.next_attempt_at, error, None)

    mark_attention = mark_refused  # the earlier name

    def counts(self) -> dict[str, int]:
        with self._connect(write=False) as db:
            return dict(self.execute(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    # ---- for staff
    def jobs(self, status: Optional[str] = None, limit: int = 200) -> list[Job]:
        """Jobs newest first, optionally of one status (pending, done, refused, cancelled)."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        with self._connect(write=False) as db:
            rows = self.execute(db, f"SELECT {_COLUMNS} FROM outbox {where} ORDER BY created_at DESC, id LIMIT ?",
                                 (*params, limit)).fetchall()
        return [_job(r) for r in rows]

    def refused_jobs(self, limit: int = 200) -> list[Job]:
        """The jobs Commerce7 refused, with the reason in last_error: they wait for a person."""
        return self.jobs("refused", limit)

    def retry(self, job_id: str, now: Optional[float] = None) -> bool:
        """Staff corrected the cause: deliver a refused (or cancelled) job again on the next run."""
        return self._set_status(job_id, ("refused", "cancelled"), "pending", time.time() if now is None else now)

    def cancel(self, job_id: str) -> bool:
        """Staff decided the job is not to be delivered (it stays, marked cancelled)."""
        return self._set_status(job_id, ("refused", "pending"), "cancelled", None)

    def _set_status(self, job_id: str, allowed: tuple[str, ...], status: str, due: Optional[float]) -> bool:
        marks = ", ".join("?" * len(allowed))
        with self._connect() as db:
            cursor = self.execute(db, f"UPDATE outbox SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at),"
                                       f" updated_at = ? WHERE id = ? AND status IN ({marks})",
                                   (status, due, time.time(), job_id, *allowed))
            return bool(cursor.rowcount == 1)

    def _update(self, job: Job, status: str, attempts: int, next_at: float, error: Optional[str],
                result: Optional[str]) -> None:
        with self._connect() as db:
            self.execute(db, "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
                              " result = COALESCE(?, result), updated_at = ? WHERE id = ?",
                          (status, attempts, next_at, error, result, time.time(), job.id))


def _job(row: tuple[Any, ...]) -> Job:
    return Job(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7])


# ---- plain functions for staff tools (the console): the database URL of settings.outbox_database
def refused_jobs(url: str, limit: int = 200) -> list[Job]:
    """Jobs Commerce7 refused, newest first; the reason is in last_error."""
    return Outbox(url).refused_jobs(limit)


def retry_job(url: str, job_id: str) -> bool:
    """Deliver a refused or cancelled job again on the next outbox run; False when no such job is waiting."""
    return Outbox(url).retry(job_id)


def cancel_job(url: str, job_id: str) -> bool:
    """Drop a refused or pending job from delivery (kept as cancelled); False when it is not one."""
    return Outbox(url).cancel(job_id)
