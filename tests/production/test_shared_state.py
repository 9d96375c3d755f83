"""State several processes share in the production profile, on the real PostgreSQL:
the Commerce7 outbox (two deliverers at once deliver each job exactly once) and the SMS
channel's retries, opt-outs and menus (seen alike by every replica)."""
from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from core.commerce7.outbox import Outbox
from core.commerce7.signup import process_outbox, subscribe_key
from tests.production.services import scratch_database
from tests.unit.test_signup_outbox import client_for


@pytest.fixture
def pg_url():
    with scratch_database("milea_state") as url:
        yield url


def test_two_deliverers_deliver_each_outbox_job_exactly_once(emulator, pg_url):
    emails = [f"racer.{uuid.uuid4().hex[:8]}@example.com" for _ in range(12)]
    outbox = Outbox(pg_url)
    for email in emails:
        outbox.enqueue("subscribe", subscribe_key(email), {"email": email}, "Unavailable", now=0)
    outbox.enqueue("subscribe", subscribe_key(emails[0]), {"email": emails[0]}, now=0)  # same key: kept once
    counts: list[dict] = []

    def deliverer() -> None:
        async def go():
            async with client_for(emulator) as client:
                return await process_outbox(Outbox(pg_url), client, now=1e12)
        counts.append(asyncio.run(go()))

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(c["delivered"] for c in counts) == len(emails), counts
    assert sum(c["retry"] + c["attention"] for c in counts) == 0, counts
    assert outbox.counts() == {"done": len(emails)}
    # Commerce7 holds one customer per email.
    async def customers():
        async with client_for(emulator) as client:
            return [await client.find_customer_by_email(e) for e in emails]
    assert all(c is not None for c in asyncio.run(customers()))


def test_sms_state_is_shared_between_replicas(pg_url, tmp_path, monkeypatch):
    from channels.sms_store import SmsStore, sms_database

    monkeypatch.setenv("TRACKER_DB_URL", pg_url)
    monkeypatch.delenv("SMS_DB_URL", raising=False)
    assert sms_database(tmp_path) == pg_url
    replica_1, replica_2 = SmsStore(pg_url), SmsStore(pg_url)
    sid, phone = f"SM{uuid.uuid4().hex}", "+18455550177"
    # Twilio retries a webhook: whichever replica gets the retry knows it was handled.
    assert replica_1.first_time(sid) and not replica_2.first_time(sid)
    replica_1.set_opted_out(phone, True)
    assert replica_2.opted_out(phone)
    replica_2.set_opted_out(phone, False)
    assert not replica_1.opted_out(phone)
    menu = [{"title": "Hours", "payload": "/ask_hours"}, {"title": "Wine club", "payload": "/ask_club"}]
    replica_1.set_buttons(phone, menu)
    assert replica_2.buttons(phone) == menu
    replica_2.set_buttons(phone, [])
    assert replica_1.buttons(phone) == []
