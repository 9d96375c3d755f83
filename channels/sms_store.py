"""What the SMS channel remembers per number: handled MessageSids (a day), opt-outs and the
last numbered menu. A SQLite file by default; the shared PostgreSQL database in the production
profile, so that every Rasa replica sees the same retries, opt-outs and menus."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Union

from actions.database import Database, is_postgres_url

DEDUPE_TTL = 24 * 3600.0
BUTTONS_TTL = 2 * 3600.0  # like the session expiry: a "2" next week is not a menu choice


class SmsStore(Database):
    """Handled MessageSids (with TTL), opted-out numbers and the last buttons per number.

    A SQLite file by default; PostgreSQL in the production profile, so that every
    Rasa replica sees the same retries, opt-outs and menus.
    """

    def __init__(self, target: Union[Path, str]) -> None:
        super().__init__(target)
        with self._connect() as db:
            for ddl in ("CREATE TABLE IF NOT EXISTS sms_handled (sid TEXT PRIMARY KEY, at {real} NOT NULL)",
                        "CREATE INDEX IF NOT EXISTS sms_handled_at ON sms_handled (at)",
                        "CREATE TABLE IF NOT EXISTS sms_opt_out (phone TEXT PRIMARY KEY, at {real} NOT NULL)",
                        "CREATE TABLE IF NOT EXISTS sms_buttons (phone TEXT PRIMARY KEY, buttons TEXT NOT NULL, "
                        "at {real} NOT NULL)"):
                self._execute(db, ddl.format(real="REAL" if self.dialect == "sqlite" else "DOUBLE PRECISION"))

    def _run(self, sql: str, params: tuple = ()) -> Any:
        with self._connect() as db:
            cursor = self._execute(db, sql, params)
            return cursor.rowcount if cursor.description is None else cursor.fetchone()

    def first_time(self, sid: str) -> bool:
        now = time.time()
        with self._connect() as db:
            self._execute(db, "DELETE FROM sms_handled WHERE at < ?", (now - DEDUPE_TTL,))
            inserted = self._execute(db, "INSERT INTO sms_handled VALUES (?, ?) ON CONFLICT (sid) DO NOTHING",
                                     (sid, now))
            return inserted.rowcount == 1

    def opted_out(self, phone: str) -> bool:
        return self._run("SELECT 1 FROM sms_opt_out WHERE phone = ?", (phone,)) is not None

    def set_opted_out(self, phone: str, value: bool) -> None:
        with self._connect() as db:
            if value:
                self._execute(db, "INSERT INTO sms_opt_out VALUES (?, ?) ON CONFLICT (phone) DO UPDATE SET at = "
                                  "excluded.at", (phone, time.time()))
                self._execute(db, "DELETE FROM sms_buttons WHERE phone = ?", (phone,))
            else:
                self._execute(db, "DELETE FROM sms_opt_out WHERE phone = ?", (phone,))

    def buttons(self, phone: str) -> List[Dict[str, str]]:
        row = self._run("SELECT buttons, at FROM sms_buttons WHERE phone = ?", (phone,))
        if not row or row[1] < time.time() - BUTTONS_TTL:
            return []
        return json.loads(row[0])

    def set_buttons(self, phone: str, buttons: List[Dict[str, str]]) -> None:
        if buttons:
            self._run("INSERT INTO sms_buttons VALUES (?, ?, ?) ON CONFLICT (phone) DO UPDATE SET "
                      "buttons = excluded.buttons, at = excluded.at", (phone, json.dumps(buttons), time.time()))
        else:
            self._run("DELETE FROM sms_buttons WHERE phone = ?", (phone,))


def sms_database(data_dir: Path) -> str:
    """SMS_DB_URL, else the tracker store's PostgreSQL database (TRACKER_DB_URL), else data_dir/sms.db."""
    explicit = os.environ.get("SMS_DB_URL", "").strip()
    tracker = os.environ.get("TRACKER_DB_URL", "").strip()
    return explicit or (tracker if is_postgres_url(tracker) else f"sqlite:///{data_dir / 'sms.db'}")
