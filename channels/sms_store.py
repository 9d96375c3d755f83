"""What the SMS channel remembers per number: received and handled MessageSids (a day), opt-outs,
the last numbered menu, and the SMS that could not be sent (kept for staff until dismissed).

A message is recorded as `received` (with its sender and text) before Twilio gets its 200 and
marked `done` (text cleared) only after its turn was stored: a retry of a received-but-unfinished
MessageSid is let through, a retry of a done one is acknowledged only, and messages left
unfinished by a crash are handed back by `unfinished()` (at least once, deduplicated by MessageSid).

A SQLite file by default; the shared PostgreSQL database in the production profile, so that
every Rasa replica sees the same retries, opt-outs and menus."""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from core import migrations
from core.consent import ConsentLedger
from core.database import Database
from core.settings import shared_settings

DEDUPE_TTL = 24 * 3600.0
LEASE_S = 60.0  # a received message not done after this was dropped by a crash: handled again
BUTTONS_TTL = 2 * 3600.0  # like the session expiry: a "2" next week is not a menu choice


class SmsStore(Database):
    """Handled MessageSids (with TTL), opted-out numbers and the last buttons per number.

    A SQLite file by default; PostgreSQL in the production profile, so that every
    Rasa replica sees the same retries, opt-outs and menus.
    """

    def __init__(self, target: Union[Path, str]) -> None:
        super().__init__(target)
        migrations.ensure(self.url)
        self._consent: Optional[ConsentLedger] = None

    def _run(self, sql: str, params: tuple = (), write: bool = True) -> Any:
        with self._connect(write) as db:
            cursor = self.execute(db, sql, params)
            return cursor.rowcount if cursor.description is None else cursor.fetchone()

    def receive(self, sid: str, sender: str, body: str, media: int, now: Optional[float] = None) -> bool:
        """Record a message on arrival; True when it is to be handled now.

        False for a MessageSid already done, or received moments ago and still being handled. A
        MessageSid received but not done within LEASE_S (its handler died) is claimed again.
        """
        now = time.time() if now is None else now
        with self._connect() as db:
            self.execute(db, "DELETE FROM sms_handled WHERE at < ?", (now - DEDUPE_TTL,))
            inserted = self.execute(
                db, "INSERT INTO sms_handled (sid, at, status, sender, body, media) VALUES (?, ?, 'received', ?, ?, ?)"
                    " ON CONFLICT (sid) DO NOTHING", (sid, now, sender, body, media))
            if inserted.rowcount == 1:
                return True
            retaken = self.execute(db, "UPDATE sms_handled SET at = ? WHERE sid = ? AND status = 'received' "
                                        "AND at < ?", (now, sid, now - LEASE_S))
            return retaken.rowcount == 1

    def done(self, sid: str) -> None:
        """The message's turn is stored: later retries are only acknowledged; its text is not kept."""
        self._run("UPDATE sms_handled SET status = 'done', body = NULL, at = ? WHERE sid = ?", (time.time(), sid))

    def unfinished(self, now: Optional[float] = None) -> List[Tuple[str, str, str, int]]:
        """(sid, sender, body, media) of messages received but not done within LEASE_S, claimed again
        (oldest first): what a crashed process left."""
        now = time.time() if now is None else now
        with self._connect() as db:
            pick = ("SELECT sid, sender, body, media FROM sms_handled WHERE status = 'received' AND at < ? AND at >= ?"
                    " ORDER BY at")
            if self.dialect == "postgresql":  # SQLite: BEGIN IMMEDIATE already excludes other replicas
                pick += " FOR UPDATE SKIP LOCKED"
            rows = self.execute(db, pick, (now - LEASE_S, now - DEDUPE_TTL)).fetchall()
            for row in rows:
                self.execute(db, "UPDATE sms_handled SET at = ? WHERE sid = ?", (now, row[0]))
        return [(r[0], r[1] or "", r[2] or "", int(r[3] or 0)) for r in rows]

    def first_time(self, sid: str) -> bool:
        """Record and finish a MessageSid at once (no turn to wait for); True the first time."""
        if not self.receive(sid, "", "", 0):
            return False
        self.done(sid)
        return True

    def opted_out(self, phone: str) -> bool:
        return self._run("SELECT 1 FROM sms_opt_out WHERE phone = ?", (phone,), write=False) is not None

    def set_opted_out(self, phone: str, value: bool, channel: str = "sms", words: str = "",
                      source: str = "customer") -> None:
        """Through the consent ledger (core/consent.py), so every change is in its audit trail."""
        if value:
            self.consent.opt_out(phone, channel, words, source=source, actor=source)
        else:
            self.consent.opt_in(phone, channel, words, source=source)

    @property
    def consent(self) -> ConsentLedger:
        if self._consent is None:
            self._consent = ConsentLedger(self.url)
        return self._consent

    def record_failed(self, phone: str, reason: str) -> None:
        """An SMS to `phone` that Twilio would not take after every retry: the number (staff call back),
        why, and when; never the text. The console's needs-attention page lists it until dismissed."""
        self._run("INSERT INTO sms_failed (phone, reason, failed_at) VALUES (?, ?, ?)",
                  (phone, reason[:500], time.time()))

    def buttons(self, phone: str) -> List[Dict[str, str]]:
        row = self._run("SELECT buttons, at FROM sms_buttons WHERE phone = ?", (phone,), write=False)
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
    return dataclasses.replace(shared_settings(), data_dir=data_dir).sms_database
