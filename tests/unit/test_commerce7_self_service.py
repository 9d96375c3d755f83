"""Issue 23, the Commerce7 side: orders with fulfillments, club packages, membership changes and the
account changes written through the outbox, against the real emulator over loopback HTTP."""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, TypeVar

import pytest

from commerce7_demo.emulator import EmulatorServer
from core.commerce7 import Commerce7Client, ValidationError
from core.commerce7.account_changes import NotTheirs, apply_change, submit
from core.commerce7.outbox import Outbox
from core.commerce7.signup import process_outbox

T = TypeVar("T")
PRIYA, JORDAN, MORGAN, SAM = ("priya.shah@example.com", "jordan.rivera@example.com", "morgan.lee@example.com",
                              "sam.whitaker@example.com")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = EmulatorServer(tmp_path_factory.mktemp("c7") / "state.json").start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def clean(server: EmulatorServer):
    server.reset()
    yield


def with_client(server: EmulatorServer, fn: Callable[[Commerce7Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Commerce7Client(server.url, server.app_id, server.secret, server.tenant, timeout=2.0,
                                   max_retries=1, backoff_base=0.01, backoff_max=0.02) as c:
            return await fn(c)
    return asyncio.run(main())


async def customer_id(c: Commerce7Client, email: str) -> str:
    found = await c.find_customer_by_email(email)
    assert found is not None
    return found.id


def test_orders_in_each_state_newest_first(server):
    async def go(c: Commerce7Client) -> dict[str, Any]:
        return {email: await c.list_orders(await customer_id(c, email)) for email in (PRIYA, JORDAN, MORGAN, SAM)}
    orders = with_client(server, go)
    states = {o.state for found in orders.values() for o in found}
    assert {"shipped", "preparing", "ready_for_pickup", "picked_up"} <= states
    priya = orders[PRIYA]
    assert [o.number for o in priya] == ["2052", "2039"]   # newest first
    shipped = priya[1]
    assert shipped.shipment is not None and shipped.shipment.carrier == "UPS"
    assert shipped.shipment.tracking_numbers == ["1Z999AA10123456784"]
    assert shipped.total_cents == 6400 + 2500 + 1500 + round(8900 * 0.08)
    assert [i.title for i in shipped.items] == ["Farmhouse Cabernet Franc", "Queen of the Meadow Rose"]
    assert orders[JORDAN][0].state == "ready_for_pickup" and orders[JORDAN][0].pickup_location_id


def test_orders_of_one_customer_only(server):
    async def go(c: Commerce7Client) -> list:
        return await c.list_orders("not-a-customer")
    assert with_client(server, go) == []


def test_next_club_package_with_its_wines(server):
    async def go(c: Commerce7Client):
        jordan = await customer_id(c, JORDAN)
        [membership] = await c.list_memberships(jordan, active_only=True)
        return membership, await c.next_package(membership.club_id, after="2026-12-01T00:00:00Z")
    membership, package = with_client(server, go)
    assert membership.club_title == "Grand Prix" and membership.order_delivery_method == "Pickup"
    assert package is not None and package.process_date[4:10] == "-03-05"   # the next March 5: always ahead
    assert ("Reserve Cabernet Franc", 2) in package.items
    later = f"{int(package.process_date[:4]) + 1}-01-01T00:00:00Z"
    assert with_client(server, lambda c: c.next_package(membership.club_id, after=later)) is None


def test_switch_to_pickup_and_back_to_ship_at_a_new_address(server):
    async def go(c: Commerce7Client):
        priya = await customer_id(c, PRIYA)
        [membership] = await c.list_memberships(priya, active_only=True)
        location = server.emulator.location_id
        pickup = await apply_change(c, "club_delivery", {"customer_id": priya, "membership_id": membership.id,
                                                          "method": "Pickup", "pickup_location_id": location})
        again = await apply_change(c, "club_delivery", {"customer_id": priya, "membership_id": membership.id,
                                                         "method": "Pickup", "pickup_location_id": location})
        address = {"address": "9 River Rd", "city": "Hudson", "stateCode": "NY", "zipCode": "12534"}
        moved = await apply_change(c, "club_address", {"customer_id": priya, "membership_id": membership.id,
                                                        "address": address})
        replay = await apply_change(c, "club_address", {"customer_id": priya, "membership_id": membership.id,
                                                         "address": address})
        return pickup, again, moved, replay, await c.list_addresses(priya), await c.get_membership(membership.id)
    pickup, again, moved, replay, addresses, membership = with_client(server, go)
    assert pickup == again and pickup["method"] == "Pickup" and pickup["ship_to"] is None
    assert moved["method"] == "Ship" and moved == replay
    assert [a.address for a in addresses].count("9 River Rd") == 1   # the replay added no second address
    assert membership.ship_to_address_id == moved["ship_to"]


def test_a_change_to_someone_elses_membership_is_refused(server):
    async def go(c: Commerce7Client):
        priya, jordan = await customer_id(c, PRIYA), await customer_id(c, JORDAN)
        [theirs] = await c.list_memberships(jordan, active_only=True)
        await apply_change(c, "club_delivery", {"customer_id": priya, "membership_id": theirs.id,
                                                 "method": "Pickup", "pickup_location_id": "x"})
    with pytest.raises(NotTheirs):
        with_client(server, go)


def test_email_change_replaces_the_first_email_once(server):
    async def go(c: Commerce7Client):
        sam = await customer_id(c, SAM)
        first = await apply_change(c, "customer_email", {"customer_id": sam, "new": "sam.w@example.org"})
        second = await apply_change(c, "customer_email", {"customer_id": sam, "new": "sam.w@example.org"})
        return first, second, await c.get_customer(sam)
    first, second, customer = with_client(server, go)
    assert first["changed"] and not second["changed"]
    assert customer.emails == ["sam.w@example.org"]


def test_submit_is_exactly_once_per_turn_and_a_refusal_is_kept_for_staff(server, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")

    async def go(c: Commerce7Client):
        priya = await customer_id(c, PRIYA)
        [membership] = await c.list_memberships(priya, active_only=True)
        payload = {"customer_id": priya, "membership_id": membership.id, "method": "Pickup",
                   "pickup_location_id": server.emulator.location_id}
        done = await submit(outbox, c, "club_delivery", payload, request="turn-1")
        replay = await submit(outbox, c, "club_delivery", payload, request="turn-1")
        puts = [r for r in server.emulator.requests if r["method"] == "PUT"]
        server.set_faults(fail_next=1, fail_status=422, methods=["PUT"])
        back = {**payload, "method": "Ship", "address_id": None,
                "address": {"address": "1 Main St", "city": "Beacon", "stateCode": "NY", "zipCode": "12508"}}
        refused = await submit(outbox, c, "club_delivery", back, request="turn-2")
        return done, replay, puts, refused
    done, replay, puts, refused = with_client(server, go)
    assert done.state == "done" and replay.state == "done" and replay.job_id == done.job_id
    assert replay.result == done.result and len(puts) == 1
    assert refused.state == "refused"
    [kept] = outbox.refused_jobs()
    assert kept.kind == "club_delivery" and "422" in (kept.last_error or "")


def test_a_change_queued_while_commerce7_is_down_is_delivered_by_the_jobs_process(server, tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.backoff_base_s = 0.0

    async def go(c: Commerce7Client):
        sam = await customer_id(c, SAM)
        server.set_faults(down=True)
        queued = await submit(outbox, c, "customer_phone", {"customer_id": sam, "new": "+15557770101"},
                              request="t-1", budget_s=3)
        server.set_faults(down=False)
        counts = await process_outbox(outbox, c, now=10 ** 10)
        return queued, counts, await c.get_customer(sam)
    queued, counts, customer = with_client(server, go)
    assert queued.state == "queued" and counts["delivered"] == 1
    assert customer.phones == ["+15557770101"]


def test_membership_put_validates_like_a_create(server):
    async def go(c: Commerce7Client):
        priya = await customer_id(c, PRIYA)
        [membership] = await c.list_memberships(priya, active_only=True)
        await c.update_membership(membership.id, {"orderDeliveryMethod": "Ship", "shipToCustomerAddressId": "nope"})
    with pytest.raises(ValidationError):
        with_client(server, go)


def test_a_new_job_is_claimed_once_even_by_a_replay_that_reads_it_after_the_claim(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    job = outbox.enqueue("club_delivery", "k", {"customer_id": "c"}, request="turn-1")
    assert outbox.claim_new(job)
    again = outbox.enqueue("club_delivery", "k", {"customer_id": "c"}, request="turn-1")   # the replay
    assert again.id == job.id and not outbox.claim_new(again) and not outbox.claim_new(job)


def test_a_pickup_order_is_ready_when_marked_or_when_the_tenant_marks_none():
    from core.commerce7.models import Order
    base = {"id": "o", "orderDeliveryMethod": "Pickup", "fulfillmentStatus": "Not Fulfilled", "paymentStatus": "Paid"}
    assert Order.from_api(base).state == "ready_for_pickup"                        # no marks at all: paid = ready
    assert Order.from_api({**base, "pickupStatus": None}).state == "preparing"       # marks used, not marked yet
    assert Order.from_api({**base, "pickupStatus": "Ready For Pickup"}).state == "ready_for_pickup"
    marked = {**base, "pickupStatus": None, "fulfillments": [{"type": "Ready For Pickup", "fulfillmentDate": "x"}]}
    assert Order.from_api(marked).state == "ready_for_pickup" and Order.from_api(marked).done_on is None
    done = {**base, "fulfillmentStatus": "Fulfilled", "fulfillments": [
        {"type": "Ready For Pickup", "fulfillmentDate": "a"}, {"type": "Picked Up", "fulfillmentDate": "b"}]}
    assert Order.from_api(done).state == "picked_up" and Order.from_api(done).done_on == "b"
