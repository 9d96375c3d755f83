"""Staff hand-off notifications, sent once per customer turn even when the action call is replayed,
and at most once per conversation in a cooldown (HANDOFF_NOTICE_COOLDOWN_S).

nginx sends an action call again when the action server it went to died mid-call. The first
call claims (conversation, turn) in `handoff_notice` (the feedback database) before it notifies
anyone and records the outcome after; a replay reuses that outcome instead of notifying again,
waits while the first call is still sending, and takes over only when the first call's claim
has lapsed (its process died before recording anything). A later turn of the same conversation
within the cooldown of a notice sent (or being sent) reuses that notice's outcome: someone asking
for a person on every message, or a script doing it, pages the staff once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Awaitable, Callable, Dict, Optional, Tuple

from core import migrations
from core.database import Database

log = logging.getLogger(__name__)
Results = Dict[str, bool]


class HandoffNotices(Database):
    def __init__(self, url: str, lease_s: float, cooldown_s: float = 0.0) -> None:
        super().__init__(url)
        migrations.ensure(self.url)
        self.lease_s, self.cooldown_s = lease_s, cooldown_s

    def claim(self, conversation_id: str, turn: str) -> Tuple[str, Optional[Results]]:
        """('send', None): this call notifies; ('done', results): already notified, for this turn or
        within the cooldown; ('wait', None): in flight."""
        now = time.time()
        with self._connect() as db:
            if self.dialect == "postgresql":  # turns of one conversation claim one after the other
                self.execute(db, "SELECT pg_advisory_xact_lock(hashtext(?))", (conversation_id,))
            recent = self.execute(
                db, "SELECT status, results FROM handoff_notice WHERE conversation_id = ? AND turn_key <> ? "
                    "AND status IN ('sent', 'sending') AND created_at > ? ORDER BY created_at DESC LIMIT 1",
                (conversation_id, turn, now - self.cooldown_s)).fetchone() if self.cooldown_s > 0 else None
            if recent is not None:  # told lately: that notice's outcome, once it has one
                return ("done", json.loads(recent[1])) if recent[0] == "sent" else ("wait", None)
            inserted = self.execute(db, "INSERT INTO handoff_notice (conversation_id, turn_key, status, created_at,"
                                         " updated_at) VALUES (?, ?, 'sending', ?, ?) ON CONFLICT DO NOTHING",
                                     (conversation_id, turn, now, now))
            if inserted.rowcount == 1:
                return "send", None
            status, results, updated = self.execute(
                db, "SELECT status, results, updated_at FROM handoff_notice WHERE conversation_id = ? AND turn_key = ?",
                (conversation_id, turn)).fetchone()
            if status == "sent":
                return "done", json.loads(results)
            if status == "failed" or updated < now - self.lease_s:  # nobody was told, or the sender died
                taken = self.execute(db, "UPDATE handoff_notice SET status = 'sending', updated_at = ? WHERE "
                                          "conversation_id = ? AND turn_key = ? AND status = ? AND updated_at = ?",
                                      (now, conversation_id, turn, status, updated))
                if taken.rowcount == 1:  # one replay takes over, however many race
                    return "send", None
            return "wait", None

    def record(self, conversation_id: str, turn: str, results: Results) -> None:
        status = "sent" if any(results.values()) else "failed"
        with self._connect() as db:
            self.execute(db, "UPDATE handoff_notice SET status = ?, results = ?, updated_at = ? "
                              "WHERE conversation_id = ? AND turn_key = ?",
                          (status, json.dumps(results), time.time(), conversation_id, turn))


async def notify_once(url: str, conversation_id: str, turn: Optional[str], lease_s: float,
                      notify: Callable[[], Awaitable[Results]], cooldown_s: float = 0.0) -> Results:
    """The outcome of notifying the staff for this turn, notifying only when no call did yet.

    Args:
        url: the database (settings.feedback_database).
        turn: actions.turns.turn_key of the call; None (no user message) notifies without a record.
        lease_s: how long a claim holds before a replay may take over (the notification budget).
        cooldown_s: after a notice, the conversation's later turns reuse its outcome for this long.
        notify: sends the notifications; returns {'sms': ok, 'email': ok}.
    """
    if not turn:
        return await notify()
    notices = HandoffNotices(url, lease_s, cooldown_s)
    deadline = time.monotonic() + lease_s + 1.0
    while True:
        state, results = await asyncio.to_thread(notices.claim, conversation_id, turn)
        if state == "done":
            log.info("hand-off: staff already notified for this turn or conversation lately: not sent again")
            return results or {}
        if state == "send" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)  # another call is sending right now: wait for its outcome
    results = await notify()
    try:
        await asyncio.to_thread(notices.record, conversation_id, turn, results)
    except Exception as exc:  # the staff were told; a replay may tell them again
        log.error("hand-off: outcome not recorded: %s", type(exc).__name__)
    return results
