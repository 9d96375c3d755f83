"""Texts the winery starts: campaigns, the durable queue of outgoing SMS, and Commerce7 webhook events.

Tables (core/migrations.py 8), in the SMS channel's database beside the consent ledger:
- `campaigns`: what staff composed (name, text, audience, send_at), who created and who sent it, and its
  state: draft -> scheduled (sent by an admin, due at send_at) -> sending (its recipients are queued) -> done.
- `sms_outgoing`: one row per message to one number, unique by `dedupe_key` (a campaign and a number, or a
  Commerce7 event's meaning such as "order 123 ready for pickup"), so nothing is queued twice. A row goes
  queued -> sending (claimed just before the Twilio call) -> sent (Twilio took it, with its MessageSid) ->
  delivered | failed (Twilio's signed status callback); or skipped with a reason (not_opted_in, opted_out,
  weekly_cap, no_phone, refused_country). A row left `sending` by a killed jobs process is settled against
  Twilio's own record of what it sent before anything else goes out (core/texting/sender.py).
- `c7_events`: each Commerce7 webhook delivery, keyed by object id + action + updatedAt (Commerce7 sends no
  event id), recorded by the receiver and worked through by the jobs process.

Plain SQL through core.database: both virtual environments import it (the Rasa server's Twilio channel
updates delivery states and the Commerce7 receiver records events).
"""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Optional, Union

from core import migrations
from core.database import Database
from core.sms_segments import MAX_SMS_CHARS, encoding, gsm_friendly, segment_count
from core.texts import render

DRAFT, SCHEDULED, SENDING, DONE, CANCELLED = "draft", "scheduled", "sending", "done", "cancelled"
SKIP_REASONS = ("not_opted_in", "opted_out", "weekly_cap", "no_phone", "refused_country")
EVENT_PENDING, EVENT_DONE, EVENT_FAILED = "pending", "done", "failed"


def campaign_body(text: str) -> str:
    """What a campaign sends: staff's text in GSM-7 look-alikes, with the opt-out line (utter_campaign_footer)
    unless the text already says STOP."""
    body = gsm_friendly(" ".join(text.split(" ")).strip())
    if "STOP" not in body.upper():
        body = f"{body} {render('utter_campaign_footer', 'twilio')}"
    return body


def estimate(text: str, recipients: int, cost_per_segment: float) -> dict[str, Any]:
    """Segments, encoding and the cost of sending `text` to `recipients` numbers."""
    body = campaign_body(text)
    segments = segment_count(body)
    return {"body": body, "characters": len(body), "encoding": encoding(body), "segments": segments,
            "too_long": len(body) > MAX_SMS_CHARS, "recipients": recipients,
            "cost_usd": round(segments * recipients * cost_per_segment, 2)}


def audience_label(audience: Any) -> str:
    if audience == "all":
        return "everyone opted in"
    if isinstance(audience, dict):
        if audience.get("club_members"):
            return "club members (opted in)"
        if audience.get("tier"):
            return f"{audience['tier']} members (opted in)"
        if audience.get("tag"):
            return f"customers tagged {audience['tag']} (opted in)"
    return str(audience)


def clean_audience(raw: Any) -> Union[str, dict[str, Any]]:
    """'all', {"club_members": true}, {"tier": "..."} or {"tag": "..."}; ValueError with a sentence otherwise."""
    if raw == "all":
        return "all"
    if isinstance(raw, dict) and len(raw) == 1:
        key, value = next(iter(raw.items()))
        if key == "club_members" and value is True:
            return {"club_members": True}
        if key in ("tier", "tag") and isinstance(value, str) and 0 < len(value.strip()) <= 100:
            return {key: value.strip()}
    raise ValueError('audience must be "all", {"club_members": true}, {"tier": "<club tier>"} or {"tag": "<tag>"}')


class OutreachStore(Database):
    """Args: target: the SMS database (sqlite:///..., postgresql://..., or a Path to a SQLite file)."""

    def __init__(self, target: Union[Path, str]) -> None:
        super().__init__(target)
        migrations.ensure(self.url)

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self._connect(write=False) as db:
            return self.execute(db, sql, params).fetchone()

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._connect(write=False) as db:
            rows: list[Any] = self.execute(db, sql, params).fetchall()
            return rows

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self._connect() as db:
            count: int = self.execute(db, sql, params).rowcount
            return count

    # ---- campaigns
    def create_campaign(self, name: str, text: str, audience: Any, send_at: Optional[float], created_by: str) -> str:
        campaign_id = uuid.uuid4().hex[:12]
        self._write("INSERT INTO campaigns (id, name, text, audience, status, send_at, created_by, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (campaign_id, name, text, json.dumps(audience), DRAFT, send_at, created_by, time.time()))
        return campaign_id

    def send_campaign(self, campaign_id: str, sent_by: str) -> bool:
        """A draft becomes scheduled (due at its send_at, or now); False when it is not a draft."""
        return self._write("UPDATE campaigns SET status = ?, sent_by = ?, send_at = COALESCE(send_at, ?) "
                           "WHERE id = ? AND status = ?", (SCHEDULED, sent_by, time.time(), campaign_id, DRAFT)) == 1

    def cancel_campaign(self, campaign_id: str) -> bool:
        """A draft or scheduled campaign is cancelled (one already sending is not)."""
        return self._write("UPDATE campaigns SET status = ?, finished_at = ? WHERE id = ? AND status IN (?, ?)",
                           (CANCELLED, time.time(), campaign_id, DRAFT, SCHEDULED)) == 1

    def campaign(self, campaign_id: str) -> Optional[dict[str, Any]]:
        row = self._one("SELECT id, name, text, audience, status, send_at, created_by, created_at, sent_by, "
                        "started_at, resolved_at, finished_at, error FROM campaigns WHERE id = ?", (campaign_id,))
        return _campaign(row) if row else None

    def campaigns(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._all("SELECT id, name, text, audience, status, send_at, created_by, created_at, sent_by, "
                         "started_at, resolved_at, finished_at, error FROM campaigns ORDER BY created_at DESC "
                         f"LIMIT {int(limit)}")
        return [_campaign(r) for r in rows]

    def due_campaigns(self, now: Optional[float] = None) -> list[dict[str, Any]]:
        now = time.time() if now is None else now
        rows = self._all("SELECT id, name, text, audience, status, send_at, created_by, created_at, sent_by, "
                         "started_at, resolved_at, finished_at, error FROM campaigns WHERE status = ? AND "
                         "send_at <= ? ORDER BY send_at", (SCHEDULED, now))
        return [_campaign(r) for r in rows]

    def queue_campaign(self, campaign_id: str, recipients: list[tuple[str, Optional[str]]]) -> int:
        """Queue the campaign's recipients in one transaction and mark it sending: (phone, None) to send,
        (phone, reason) counted as skipped. A campaign already resolved is left as it is; returns rows added."""
        now = time.time()
        added = 0
        with self._connect() as db:
            row = self.execute(db, "SELECT status, text FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
            if not row or row[0] != SCHEDULED:
                return 0
            for phone, reason in recipients:
                added += self.execute(
                    db, "INSERT INTO sms_outgoing (dedupe_key, kind, campaign_id, phone, body, status, reason, "
                        "created_at, updated_at) VALUES (?, 'campaign', ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (dedupe_key) DO NOTHING",
                    (f"campaign:{campaign_id}:{phone}", campaign_id, phone, campaign_body(row[1]),
                     "skipped" if reason else "queued",
                     reason, now, now)).rowcount
            self.execute(db, "UPDATE campaigns SET status = ?, started_at = ?, resolved_at = ? WHERE id = ?",
                         (SENDING, now, now, campaign_id))
        return added

    def fail_campaign(self, campaign_id: str, error: str) -> None:
        self._write("UPDATE campaigns SET error = ? WHERE id = ?", (error[:300], campaign_id))

    def finish_campaigns(self) -> list[str]:
        """Campaigns sending with nothing left queued or in flight become done; returns their ids."""
        now = time.time()
        with self._connect() as db:
            rows = self.execute(db, "SELECT id FROM campaigns c WHERE status = ? AND NOT EXISTS (SELECT 1 FROM "
                                    "sms_outgoing o WHERE o.campaign_id = c.id AND o.status IN ('queued', 'sending'))",
                                (SENDING,)).fetchall()
            for (campaign_id,) in rows:
                self.execute(db, "UPDATE campaigns SET status = ?, finished_at = ? WHERE id = ?",
                             (DONE, now, campaign_id))
        return [r[0] for r in rows]

    def counts(self, campaign_id: str) -> dict[str, Any]:
        """queued, sending, sent (Twilio took it), delivered, failed, skipped by reason, recipients."""
        rows = self._all("SELECT status, COALESCE(reason, ''), sid IS NOT NULL, COUNT(*) FROM sms_outgoing "
                         "WHERE campaign_id = ? GROUP BY status, COALESCE(reason, ''), sid IS NOT NULL", (campaign_id,))
        found: dict[str, int] = {}
        skipped: dict[str, int] = {}
        sent = 0
        for status, reason, has_sid, n in rows:
            found[status] = found.get(status, 0) + int(n)
            sent += int(n) if has_sid else 0
            if status == "skipped":
                skipped[reason or "other"] = skipped.get(reason or "other", 0) + int(n)
        return {"recipients": sum(found.values()), "queued": found.get("queued", 0),
                "sending": found.get("sending", 0), "sent": sent, "delivered": found.get("delivered", 0),
                "failed": found.get("failed", 0), "skipped": sum(skipped.values()), "skipped_by_reason": skipped}

    def recipients(self, campaign_id: str) -> list[str]:
        return [r[0] for r in self._all("SELECT phone FROM sms_outgoing WHERE campaign_id = ?", (campaign_id,))]

    # ---- the queue
    def enqueue(self, dedupe_key: str, kind: str, phone: str, body: str, reason: Optional[str] = None,
                buttons: Optional[list[dict[str, str]]] = None) -> bool:
        """One message (a Commerce7 event's text); False when that key was queued before."""
        now = time.time()
        return self._write("INSERT INTO sms_outgoing (dedupe_key, kind, phone, body, status, reason, created_at, "
                           "updated_at, buttons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
                           (dedupe_key, kind, phone, body, "skipped" if reason else "queued", reason, now, now,
                            json.dumps(buttons) if buttons else None)) == 1

    def claim(self, weekly_cap: int, now: Optional[float] = None) -> Optional[dict[str, Any]]:
        """The next queued message, claimed (status sending) in one transaction with its checks: the number
        still opted in (else skipped opted_out; events need consent too) and, for a campaign, under the
        weekly cap (else skipped weekly_cap). None when nothing is queued."""
        now = time.time() if now is None else now
        with self._connect() as db:
            while True:
                pick = "SELECT id, kind, campaign_id, phone, body, buttons FROM sms_outgoing WHERE status = 'queued' " \
                       "ORDER BY id LIMIT 1"
                if self.dialect == "postgresql":
                    pick += " FOR UPDATE SKIP LOCKED"
                row = self.execute(db, pick).fetchone()
                if row is None:
                    return None
                row_id, kind, campaign_id, phone, body, buttons = row
                consent = self.execute(db, "SELECT status FROM sms_consent WHERE phone = ?", (phone,)).fetchone()
                reason = None
                if kind == "consent_ask":  # the opt-in question itself: never to a number that said STOP
                    reason = "opted_out" if consent and consent[0] == "out" else (
                        "already_in" if consent and consent[0] == "in" else None)
                elif not consent or consent[0] != "in":
                    reason = "opted_out" if consent and consent[0] == "out" else "not_opted_in"
                elif kind == "campaign" and weekly_cap > 0:
                    sent = self.execute(db, "SELECT COUNT(*) FROM sms_outgoing WHERE phone = ? AND kind = 'campaign' "
                                            "AND sent_at >= ?", (phone, now - 7 * 86400)).fetchone()[0]
                    if sent >= weekly_cap:
                        reason = "weekly_cap"
                if reason:
                    self.execute(db, "UPDATE sms_outgoing SET status = 'skipped', reason = ?, updated_at = ? "
                                     "WHERE id = ?", (reason, now, row_id))
                    continue
                self.execute(db, "UPDATE sms_outgoing SET status = 'sending', claimed_at = ?, updated_at = ? "
                                 "WHERE id = ?", (now, now, row_id))
                return {"id": row_id, "kind": kind, "campaign_id": campaign_id, "phone": phone, "body": body,
                        "buttons": json.loads(buttons) if buttons else None, "claimed_at": now}

    def in_flight(self) -> list[dict[str, Any]]:
        """Messages claimed but never marked sent: what a killed process left."""
        rows = self._all("SELECT id, phone, body, claimed_at, buttons FROM sms_outgoing WHERE status = 'sending' "
                         "ORDER BY id")
        return [{"id": r[0], "phone": r[1], "body": r[2], "claimed_at": r[3],
                 "buttons": json.loads(r[4]) if r[4] else None} for r in rows]

    def mark_sent(self, row_id: int, sid: str) -> None:
        now = time.time()
        self._write("UPDATE sms_outgoing SET status = 'sent', sid = ?, sent_at = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'sending'", (sid, now, now, row_id))

    def offer_buttons(self, phone: str, buttons: list[dict[str, str]]) -> None:
        """The numbered choices of a text about to go out, recorded before it goes: a reply "1" / "2"
        that comes back at once (before the send has even returned) maps to them, as for the
        assistant's own numbered options."""
        self._write("INSERT INTO sms_buttons (phone, buttons, at) VALUES (?, ?, ?) ON CONFLICT (phone) "
                    "DO UPDATE SET buttons = excluded.buttons, at = excluded.at", (phone, json.dumps(buttons), time.time()))

    def withdraw_buttons(self, phone: str, buttons: list[dict[str, str]]) -> None:
        """A text that did not go out offers nothing (unless a later one offered the same choices again)."""
        self._write("DELETE FROM sms_buttons WHERE phone = ? AND buttons = ?", (phone, json.dumps(buttons)))

    def mark_unsent(self, row_id: int, status: str, reason: str) -> None:
        """Twilio refused it (failed) or it was never sent (queued again, skipped)."""
        self._write("UPDATE sms_outgoing SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND status = 'sending'",
                    (status, reason[:300], time.time(), row_id))

    def status_callback(self, sid: str, status: str, error_code: str = "") -> bool:
        """Twilio's status callback: delivered, or failed/undelivered (with its error code). Only moves forward."""
        if status == "delivered":
            return self._write("UPDATE sms_outgoing SET status = 'delivered', updated_at = ? WHERE sid = ? AND "
                               "status = 'sent'", (time.time(), sid)) == 1
        if status in ("failed", "undelivered"):
            return self._write("UPDATE sms_outgoing SET status = 'failed', reason = ?, updated_at = ? WHERE sid = ? "
                               "AND status IN ('sent', 'delivered')",
                               (f"{status} (Twilio error {error_code or '?'})", time.time(), sid)) == 1
        return False

    def has_queued(self) -> bool:
        return self._one("SELECT 1 FROM sms_outgoing WHERE status = 'queued' LIMIT 1") is not None

    def queue_depth(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM sms_outgoing WHERE status IN ('queued', 'sending')")[0])

    def recent_events_texts(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._all("SELECT dedupe_key, phone, status, reason, created_at FROM sms_outgoing WHERE kind = 'event' "
                         f"ORDER BY id DESC LIMIT {int(limit)}")
        return [{"key": r[0], "phone": r[1], "status": r[2], "reason": r[3] or "", "at": r[4]} for r in rows]

    def record_club_choice(self, phone: str, package_id: str, club: str, choice: str) -> None:
        """A member's answer to a club-shipment text (ship or pickup); the latest answer counts."""
        self._write("INSERT INTO club_choices (phone, package_id, club, choice, at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (phone, package_id) DO UPDATE SET choice = excluded.choice, at = excluded.at",
                    (phone, package_id[:100], club[:100], choice[:20], time.time()))

    def club_choices(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._all(f"SELECT phone, package_id, club, choice, at FROM club_choices ORDER BY at DESC LIMIT {int(limit)}")
        return [{"phone": r[0], "package_id": r[1], "club": r[2], "choice": r[3], "at": r[4]} for r in rows]

    # ---- Commerce7 webhook events
    def record_event(self, event_key: str, obj: str, action: str, object_id: str, payload: str) -> bool:
        """A webhook delivery; False when the same object id + action + updatedAt came before (a replay)."""
        return self._write("INSERT INTO c7_events (event_key, object, action, object_id, payload, status, received_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING",
                           (event_key, obj, action, object_id, payload, EVENT_PENDING, time.time())) == 1

    def pending_events(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._all("SELECT event_key, object, action, object_id, payload, attempts FROM c7_events WHERE status = ?"
                         f" ORDER BY received_at LIMIT {int(limit)}", (EVENT_PENDING,))
        return [{"key": r[0], "object": r[1], "action": r[2], "object_id": r[3], "payload": json.loads(r[4]),
                 "attempts": r[5]} for r in rows]

    def finish_event(self, event_key: str, result: str, failed: bool = False) -> None:
        self._write("UPDATE c7_events SET status = ?, result = ?, processed_at = ?, attempts = attempts + 1 "
                    "WHERE event_key = ?", (EVENT_FAILED if failed else EVENT_DONE, result[:300], time.time(), event_key))

    def retry_event_later(self, event_key: str, result: str, max_attempts: int = 10) -> None:
        with self._connect() as db:
            self.execute(db, "UPDATE c7_events SET attempts = attempts + 1, result = ? WHERE event_key = ?",
                         (result[:300], event_key))
            self.execute(db, "UPDATE c7_events SET status = ? WHERE event_key = ? AND attempts >= ?",
                         (EVENT_FAILED, event_key, max_attempts))

    def event_counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, COUNT(*) FROM c7_events GROUP BY status")
        return {status: int(n) for status, n in rows}


def _campaign(row: Any) -> dict[str, Any]:
    keys = ("id", "name", "text", "audience", "status", "send_at", "created_by", "created_at", "sent_by",
            "started_at", "resolved_at", "finished_at", "error")
    found = dict(zip(keys, row))
    found["audience"] = json.loads(found["audience"])
    found["audience_label"] = audience_label(found["audience"])
    return found
