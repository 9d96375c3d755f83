"""Needs attention: Commerce7 writes (club signups, subscriptions) that the outbox could not
deliver yet (waiting) or that Commerce7 refused, with retry and cancel; and text messages the
SMS channel could not send (table sms_failed, channels/sms_store.py), with dismiss.

Reads and writes the outbox table of core/commerce7/outbox.py directly and simply: any job
not delivered ('done') nor cancelled is listed; retry makes it due now; cancel sets 'cancelled',
which the deliverer never picks up (it only claims 'pending' jobs).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

from console.db import ConsoleDB
from core.settings import shared_settings

OPEN = ("pending", "attention", "refused")
# requests the assistant never carries out: they wait for the club team (core/commerce7/account_changes.py)
STAFF_TASKS = frozenset({"club_cancel_request", "club_hold_request"})


def outbox_db() -> Optional[ConsoleDB]:
    """The outbox's database as the actions see it (core/settings.py), or None before the first job."""
    url = shared_settings().outbox_database
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return None
    return ConsoleDB(url)


def sms_db() -> Optional[ConsoleDB]:
    """The SMS channel's database (channels/sms_store.py), or None while SMS never ran here."""
    url = shared_settings().sms_database
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return None
    return ConsoleDB(url)


def failed_sms(db: Optional[ConsoleDB], limit: int = 200) -> list[dict]:
    """SMS that could not be sent and nobody dismissed yet, newest first."""
    if db is None or not db.table_exists("sms_failed"):
        return []
    rows = db.all("SELECT id, phone, reason, failed_at FROM sms_failed WHERE dismissed_at IS NULL "
                  "ORDER BY failed_at DESC LIMIT ?", (limit,))
    return [{"id": row_id, "phone": phone, "reason": reason, "failed_at": at} for row_id, phone, reason, at in rows]


def dismiss_sms(db: Optional[ConsoleDB], failure_id: str) -> bool:
    """Staff followed up: the failure leaves the list (kept in the table)."""
    if db is None or not failure_id.isdigit():
        return False
    return db.run("UPDATE sms_failed SET dismissed_at = ? WHERE id = ? AND dismissed_at IS NULL",
                  (time.time(), int(failure_id))) == 1


def _who(payload: dict) -> str:
    for key in ("email", "customer_email"):
        if isinstance(payload.get(key), str):
            return payload[key]
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    return str(customer.get("email") or payload.get("name") or "")


def jobs(db: Optional[ConsoleDB], limit: int = 200) -> list[dict]:
    if db is None or not db.table_exists("outbox"):
        return []
    marks = ", ".join("?" * len(OPEN))
    rows = db.all(f"SELECT id, kind, status, attempts, next_attempt_at, last_error, payload, created_at FROM outbox "
                  f"WHERE status IN ({marks}) ORDER BY created_at DESC LIMIT ?", (*OPEN, limit))
    out = []
    for job_id, kind, status, attempts, next_at, error, payload, created in rows:
        try:
            data = json.loads(payload or "{}")
        except ValueError:
            data = {}
        state = ("staff task" if kind in STAFF_TASKS else "refused") if status in ("attention", "refused") else "waiting"
        out.append({"id": job_id, "kind": kind, "status": state, "attempts": attempts, "next_attempt_at": next_at, "reason": error or "",
                    "customer": _who(data) if isinstance(data, dict) else "", "created_at": created})
    return out


def retry(db: Optional[ConsoleDB], job_id: str) -> bool:
    if db is None:
        return False
    marks = ", ".join("?" * len(OPEN))
    return db.run(f"UPDATE outbox SET status = 'pending', next_attempt_at = ?, updated_at = ? "
                  f"WHERE id = ? AND status IN ({marks})", (time.time(), time.time(), job_id, *OPEN)) == 1


def cancel(db: Optional[ConsoleDB], job_id: str) -> bool:
    if db is None:
        return False
    marks = ", ".join("?" * len(OPEN))
    return db.run(f"UPDATE outbox SET status = 'cancelled', updated_at = ? WHERE id = ? AND status IN ({marks})",
                  (time.time(), job_id, *OPEN)) == 1
