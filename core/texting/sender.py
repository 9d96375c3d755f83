"""The jobs process's side of texts the winery starts: due campaigns become queued recipients, Commerce7
events become queued texts, and the queue is sent at CAMPAIGN_RATE_PER_S outside quiet hours, exactly once.

Exactly once, also when the process is killed at any point:
- a campaign's recipients are queued in one transaction with its move to `sending` (core/outreach.py), one
  row per number (unique key), so a restart neither loses nor doubles a recipient;
- a message is claimed (`sending`, committed) before the Twilio call and marked `sent` with its MessageSid
  after it. A process killed between the two leaves the row `sending`; on start, before anything else goes
  out, each such row is settled against Twilio's own list of messages to that number since the claim: found
  (same body) -> sent, with Twilio's sid; not found -> queued again. Twilio has no idempotency key, so this
  check is what keeps a restart from texting anyone twice;
- a POST whose answer was lost (timeout after sending) is settled the same way at once.
The consent and the weekly cap are checked in the claim's transaction, so a STOP that arrived a moment ago
stops the rest of a campaign for that number.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from typing import Any, Callable, Optional

from core.commerce7.client import Commerce7Client
from core.consent import ConsentLedger
from core.outreach import OutreachStore
from core.phones import mask_phone
from core.texting import audience
from core.texting.events import EventTexts
from core.texting.settings import TextingSettings
from core.texting.thread import ThreadNotes
from core.texting.twilio_rest import SendResult, TwilioRest

log = logging.getLogger("texting")
RETRY_PAUSE_S = 2.0


class Pacer:
    """At most `rate` sends a second, evenly spaced (no bursts after an idle spell)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(self._next, now) + self.interval


class Sender:
    def __init__(self, settings: TextingSettings, store: OutreachStore, ledger: ConsentLedger, rest: TwilioRest,
                 commerce7: Optional[Callable[[], Commerce7Client]] = None,
                 threads: Optional[ThreadNotes] = None) -> None:
        self.settings, self.store, self.ledger, self.rest = settings, store, ledger, rest
        self.threads = threads
        self.commerce7 = commerce7
        self.pacer = Pacer(settings.rate_per_s)
        self._last_housekeeping = 0.0
        self.sent = 0

    # ---- after a restart
    async def settle(self, row: dict[str, Any]) -> str:
        """A message claimed but never marked: sent (Twilio has it) or queued again."""
        found = await self.rest.sent_to(row["phone"], float(row["claimed_at"] or 0) - 5.0)
        for message in found:
            if message.get("body") == row["body"]:
                self.store.mark_sent(row["id"], str(message.get("sid") or ""))
                if row.get("buttons"):
                    self.store.offer_buttons(row["phone"], row["buttons"])
                return "sent"
        self.store.mark_unsent(row["id"], "queued", "queued again: not sent before a restart")
        return "queued"

    async def settle_in_flight(self) -> dict[str, int]:
        done: dict[str, int] = {}
        for row in self.store.in_flight():
            outcome = await self.settle(row)
            done[outcome] = done.get(outcome, 0) + 1
        if done:
            log.warning("texts in flight when the jobs process stopped: %s", done)
        return done

    # ---- campaigns and events into the queue
    async def start_due_campaigns(self, client: Optional[Commerce7Client]) -> None:
        for campaign in self.store.due_campaigns():
            try:
                recipients = await audience.resolve(campaign["audience"], self.ledger, client)
            except Exception as exc:  # Commerce7 down: stays scheduled, tried again next round
                self.store.fail_campaign(campaign["id"], f"audience not resolved yet: {type(exc).__name__}")
                log.warning("campaign %s: audience not resolved (%s), trying again", campaign["id"], type(exc).__name__)
                continue
            added = self.store.queue_campaign(campaign["id"], recipients)
            skipped = sum(1 for _, reason in recipients if reason)
            log.info("campaign %s (sent by %s): %d recipients queued, %d skipped", campaign["id"],
                     campaign["sent_by"], added - skipped, skipped)

    async def take_events(self, client: Optional[Commerce7Client]) -> None:
        if client is None:
            return
        texts = EventTexts(self.store, self.ledger, client)
        for event in self.store.pending_events():
            try:
                result = await texts.handle(event)
            except Exception as exc:  # Commerce7 briefly down: the event waits for the next round
                self.store.retry_event_later(event["key"], f"not handled yet: {type(exc).__name__}")
                log.warning("Commerce7 %s %s: not handled yet (%s)", event["object"], event["action"],
                            type(exc).__name__)
                continue
            self.store.finish_event(event["key"], result)
            log.info("Commerce7 %s %s: %s", event["object"], event["action"], result)

    async def housekeeping(self) -> None:
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(self.commerce7()) if self.commerce7 else None
            await self.start_due_campaigns(client)
            await self.take_events(client)
        for campaign_id in self.store.finish_campaigns():
            log.info("campaign %s: done %s", campaign_id, self.store.counts(campaign_id))

    # ---- sending
    async def send_one(self) -> bool:
        """Claim and send the next queued text; False when nothing is queued."""
        if not self.store.has_queued():
            return False
        await self.pacer.wait()  # before the claim: a STOP that arrives while waiting still counts
        row = self.store.claim(self.settings.weekly_cap)
        if row is None:
            return False
        if row.get("buttons"):
            self.store.offer_buttons(row["phone"], row["buttons"])
        result = await self.rest.send(row["phone"], row["body"])
        await self._record(row, result)
        return True

    async def _record(self, row: dict[str, Any], result: SendResult) -> None:
        if result.outcome == "sent":
            self.store.mark_sent(row["id"], result.sid)
            if row["kind"] == "consent_ask":
                self.ledger.mark_asked(row["phone"])  # a YES within a week now opts the number in
            self.sent += 1
            if self.threads:
                await self.threads.note(row["phone"], row["body"], row["kind"], row.get("campaign_id"))
        elif result.outcome == "unknown":
            await asyncio.sleep(1.0)
            log.warning("SMS to %s: %s", mask_phone(row["phone"]), await self.settle(row))
        elif result.outcome == "unsubscribed":
            self.ledger.opt_out(row["phone"], "twilio", "Twilio error 21610 (number unsubscribed)", source="twilio",
                                actor="twilio")
            self.store.mark_unsent(row["id"], "skipped", "opted_out")
            self._withdraw(row)
        elif result.outcome == "retry":
            self.store.mark_unsent(row["id"], "queued", result.reason)
            await asyncio.sleep(RETRY_PAUSE_S)
        else:
            self.store.mark_unsent(row["id"], "failed", result.reason)
            self._withdraw(row)
            log.error("SMS to %s refused by Twilio: %s", mask_phone(row["phone"]), result.reason)

    def _withdraw(self, row: dict[str, Any]) -> None:
        if row.get("buttons"):
            self.store.withdraw_buttons(row["phone"], row["buttons"])

    async def run(self, stop: asyncio.Event) -> None:
        await self.settle_in_flight()
        log.info("texting: %.2f a second, quiet hours %s, weekly cap %s", self.settings.rate_per_s,
                 self.settings.quiet.label(), self.settings.weekly_cap or "none")
        while not stop.is_set():
            if time.monotonic() - self._last_housekeeping >= self.settings.every_s:
                self._last_housekeeping = time.monotonic()
                try:
                    await self.housekeeping()
                except Exception:
                    log.exception("texting: campaigns and events not taken this round")
            busy = False
            if not self.settings.quiet.quiet():
                try:
                    busy = await self.send_one()
                except Exception:
                    log.exception("texting: a send failed")
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), min(self.settings.every_s, 1.0))
                except asyncio.TimeoutError:
                    pass
