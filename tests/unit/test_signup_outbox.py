"""Club signup and subscription writes against the Commerce7 emulator (real HTTP),
and the durable outbox that keeps what Commerce7 could not take."""
from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from core.commerce7.client import Commerce7Client
from core.commerce7.outbox import Outbox
from core.commerce7.signup import (ClubSignup, OwnershipRequired, keep_for_staff, perform_signup, process_outbox,
                                     subscribe_key)
from commerce7_demo.emulator import EmulatorServer


@pytest.fixture()
def emulator(tmp_path):
    server = EmulatorServer(tmp_path / "c7.json").start()
    yield server
    server.stop()


def client_for(server, **kwargs) -> Commerce7Client:
    return Commerce7Client(server.url, server.app_id, server.secret, server.tenant, timeout=2.0,
                           backoff_base=0.01, backoff_max=0.05, **kwargs)


SHIP = ClubSignup("Grand Prix", "Ana", "Lopez", "ana.lopez@example.com", "+18455550101", "1990-05-12", "Ship",
                  "12 Main St", "Rhinebeck", "NY", "12572", started_at=time.time())


def run(coro):
    return asyncio.run(coro)


async def _signup_twice(server, signup):
    async with client_for(server) as client:
        first = await perform_signup(client, signup)
        # The same conversation again: it created the customer, so it is the owner.
        second = await perform_signup(client, dataclasses.replace(signup, owner_id=first.customer_id))
        customer = await client.find_customer_by_email(signup.email)
        memberships = await client.list_memberships(customer.id, active_only=True)
        addresses = await client.list_addresses(customer.id)
    return first, second, customer, memberships, addresses


def test_ship_signup_creates_customer_address_and_active_membership_once(emulator):
    first, second, customer, memberships, addresses = run(_signup_twice(emulator, SHIP))
    assert not first.already_member and second.already_member
    assert first.membership_id == second.membership_id
    assert len(memberships) == 1 and memberships[0].raw["status"] == "Active"
    assert memberships[0].raw["orderDeliveryMethod"] == "Ship"
    assert len(addresses) == 1 and addresses[0].raw["stateCode"] == "NY"
    assert customer.birth_date == "1990-05-12" and customer.has_phone("+18455550101")


def test_pickup_signup_uses_the_pickup_location(emulator):
    pickup = ClubSignup("Jumper", "Bo", "Chen", "bo.chen@example.com", "+18455550102", "1985-01-02", "Pickup")
    first, _, _, memberships, addresses = run(_signup_twice(emulator, pickup))
    assert memberships[0].raw["orderDeliveryMethod"] == "Pickup"
    assert memberships[0].raw.get("pickupInventoryLocationId")
    assert addresses == []


EXISTING = ClubSignup("Triple Crown", "Jordan", "Rivera", "JORDAN.RIVERA@example.com", "+18455550199",
                      "1986-04-12", "Pickup", started_at=time.time())


def test_a_stranger_using_an_existing_email_writes_nothing(emulator):
    async def go():
        async with client_for(emulator) as client:
            before = await client.find_customer_by_email("jordan.rivera@example.com")
            emulator.emulator.requests.clear()
            with pytest.raises(OwnershipRequired) as refused:
                await perform_signup(client, EXISTING)
            after = await client.find_customer_by_email("jordan.rivera@example.com")
            return before, after, refused.value
    before, after, refused = run(go())
    assert refused.customer.id == before.id
    assert after.raw == before.raw and not after.has_phone("+18455550199")
    assert all(r["method"] == "GET" for r in emulator.emulator.requests)
    # Not even the memberships were looked at: "already a member" is for the owner only.
    assert not any(r["path"].startswith("/v1/club-membership") for r in emulator.emulator.requests)


def test_existing_customer_who_proved_ownership_is_updated_not_duplicated(emulator):
    async def go():
        async with client_for(emulator) as client:
            before = await client.find_customer_by_email("jordan.rivera@example.com")
            await perform_signup(client, dataclasses.replace(EXISTING, owner_id=before.id))
            after = await client.find_customer_by_email("jordan.rivera@example.com")
            return before, after
    before, after = run(go())
    assert before.id == after.id
    assert after.has_phone("+15551234567") and after.has_phone("+18455550199")


def test_a_retry_of_a_signup_cut_off_after_creating_the_customer_finishes_it(emulator):
    async def go():
        async with client_for(emulator) as client:
            await client.create_customer_idempotent(SHIP.first_name, SHIP.last_name, SHIP.email, SHIP.phone,
                                                    birth_date=SHIP.birth_date, country_code="US")
            result = await perform_signup(client, SHIP)   # the outbox's retry: no owner, but its own customer
            stale = dataclasses.replace(SHIP, email="ana.lopez@example.com", started_at=time.time() + 3600)
            with pytest.raises(OwnershipRequired):
                await perform_signup(client, stale)       # an account older than the signup is not its own
            return result
    assert run(go()).membership_id


def test_outbox_keeps_a_signup_while_commerce7_is_down_and_delivers_it_once(emulator, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.enqueue("club_signup", SHIP.key, SHIP.to_payload(), "Unavailable", now=0)
    outbox.enqueue("club_signup", SHIP.key, SHIP.to_payload(), "Unavailable", now=0)  # same key: kept once
    emulator.set_faults(down=True)

    async def attempt(now):
        async with client_for(emulator, max_retries=0) as client:
            return await process_outbox(outbox, client, now=now)
    assert run(attempt(1e12)) == {"delivered": 0, "retry": 1, "attention": 0}
    # Reopened from disk: nothing is lost across a restart.
    outbox = Outbox(tmp_path / "outbox.db")
    assert outbox.counts() == {"pending": 1}
    emulator.set_faults(down=False)
    assert run(attempt(2e12)) == {"delivered": 1, "retry": 0, "attention": 0}
    assert run(attempt(3e12)) == {"delivered": 0, "retry": 0, "attention": 0}
    async def memberships():
        async with client_for(emulator) as client:
            customer = await client.find_customer_by_email(SHIP.email)
            return await client.list_memberships(customer.id, active_only=True)
    assert len(run(memberships())) == 1


def test_refused_data_is_kept_for_staff_not_dropped(emulator, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    bad = ClubSignup("Platinum", "A", "B", "a.b@example.com", "+18455550103", "1980-01-01", "Pickup")
    outbox.enqueue("club_signup", bad.key, bad.to_payload(), now=0)

    async def attempt():
        async with client_for(emulator) as client:
            return await process_outbox(outbox, client, now=1e12)
    assert run(attempt())["attention"] == 1
    assert outbox.get(bad.key).status == "refused"


def test_subscribe_job_is_idempotent(emulator, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.enqueue("subscribe", subscribe_key("new.fan@example.com"), {"email": "new.fan@example.com"}, now=0)

    async def attempt():
        async with client_for(emulator) as client:
            counts = await process_outbox(outbox, client, now=1e12)
            again = await client.subscribe("new.fan@example.com")
            return counts, again
    counts, again = run(attempt())
    assert counts["delivered"] == 1 and again.already_subscribed


def test_a_later_different_signup_for_the_same_email_is_its_own_job(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    first = outbox.enqueue("club_signup", SHIP.key, SHIP.to_payload(), "Unavailable", request="web-1/m1")
    pickup = ClubSignup(**{**SHIP.to_payload(), "delivery": "Pickup", "street": "", "city": "", "state": "",
                           "zip": ""})
    assert pickup.key == SHIP.key  # same email and tier: a key of those alone would drop this job as a duplicate
    second = outbox.enqueue("club_signup", pickup.key, pickup.to_payload(), "Unavailable", request="web-1/m7")
    replay = outbox.enqueue("club_signup", pickup.key, pickup.to_payload(), "Unavailable", request="web-1/m7")
    assert first.id != second.id and replay.id == second.id  # an exact replay is the same job
    asked_again = outbox.enqueue("club_signup", SHIP.key, SHIP.to_payload(), request="web-2/m1")
    assert asked_again.id not in (first.id, second.id)  # the same data asked in another turn: its own job
    assert outbox.counts() == {"pending": 3}
    assert outbox.get(SHIP.key).id == asked_again.id  # by subject: the newest job about that customer


def test_refused_jobs_are_listed_for_staff_and_can_be_retried_or_cancelled(emulator, tmp_path):
    from core.commerce7.outbox import cancel_job, refused_jobs, retry_job

    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    outbox = Outbox(url)
    bad = ClubSignup("Platinum", "A", "B", "a.b@example.com", "+18455550103", "1980-01-01", "Pickup")
    job = outbox.enqueue("club_signup", bad.key, bad.to_payload(), now=0)

    async def deliver(now):
        async with client_for(emulator) as client:
            return await process_outbox(outbox, client, now=now)
    assert run(deliver(1e12))["attention"] == 1
    [refused] = refused_jobs(url)
    assert refused.id == job.id and refused.status == "refused" and "Platinum" in refused.last_error
    assert refused.payload["email"] == "a.b@example.com" and refused.attempts == 1
    assert run(deliver(2e12)) == {"delivered": 0, "retry": 0, "attention": 0}  # kept, not retried by itself
    assert retry_job(url, job.id)  # staff fixed the cause: delivered again on the next run
    assert run(deliver(3e12))["attention"] == 1 and outbox.by_id(job.id).attempts == 2
    assert cancel_job(url, job.id) and refused_jobs(url) == []
    assert outbox.by_id(job.id).status == "cancelled" and not cancel_job(url, job.id)
    assert run(deliver(4e12)) == {"delivered": 0, "retry": 0, "attention": 0}
    assert not retry_job(url, "no-such-job")


def test_requests_kept_for_staff_are_never_delivered(emulator, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    keep_for_staff(outbox, "club_signup_review", "review:x", EXISTING.to_payload(), "ownership not proven")

    async def attempt():
        async with client_for(emulator) as client:
            return await process_outbox(outbox, client, now=1e12)
    assert run(attempt()) == {"delivered": 0, "retry": 0, "attention": 0}
    assert outbox.get("review:x").status == "refused"  # listed for staff with the refused jobs
