"""Commerce7Client against the real emulator over loopback HTTP (no mocks)."""
from __future__ import annotations

import asyncio
import socket
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, TypeVar

import pytest

from core.commerce7 import (Commerce7Client, NotFound, RateLimited, ServerError, Unauthorized,
                               Unavailable, ValidationError, error_from_response, format_cents, to_e164)
from commerce7_demo.emulator import EmulatorServer

T = TypeVar("T")
JORDAN_PHONE = "+15551234567"


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    srv = EmulatorServer(tmp_path_factory.mktemp("c7") / "state.json").start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def clean(server: EmulatorServer):
    server.reset()
    yield


def client_for(server: EmulatorServer, *, secret: str | None = None, tenant: str | None = None,
               **kw: Any) -> Commerce7Client:
    opts: dict[str, Any] = dict(timeout=2.0, max_retries=3, backoff_base=0.01, backoff_max=0.05)
    opts.update(kw)
    return Commerce7Client(server.url, server.app_id, secret or server.secret, tenant or server.tenant, **opts)


def with_client(server: EmulatorServer, fn: Callable[[Commerce7Client], Awaitable[T]], **kw: Any) -> T:
    async def main() -> T:
        async with client_for(server, **kw) as c:
            return await fn(c)
    return run(main())


def statuses(server: EmulatorServer, method: str, path_prefix: str) -> list[int]:
    return [r["status"] for r in server.emulator.requests
            if r["method"] == method and r["path"].startswith(path_prefix)]


def customers_with_email(server: EmulatorServer, email: str) -> list[dict]:
    return [c for c in server.state["customers"].values()
            if any(e["email"].lower() == email.lower() for e in c["emails"])]


# ---------------------------------------------------------------- auth and errors

def test_wrong_secret_is_unauthorized(server):
    with pytest.raises(Unauthorized) as err:
        with_client(server, lambda c: c.list_clubs(), secret="nope")
    assert err.value.status == 401 and err.value.message == "Unauthenticated User"
    assert statuses(server, "GET", "/v1/club") == [401]   # never retried


def test_wrong_tenant_is_unauthorized(server):
    with pytest.raises(Unauthorized):
        with_client(server, lambda c: c.get_product("x"), tenant="someone-else")


def test_unknown_id_is_not_found(server):
    with pytest.raises(NotFound):
        with_client(server, lambda c: c.get_customer("00000000-0000-0000-0000-000000000000"))


def test_error_envelope_tolerates_string_status_and_missing_errors():
    err = error_from_response(422, {"statusCode": "422", "type": "validationError", "message": "bad"})
    assert isinstance(err, ValidationError) and err.status == 422 and err.errors == []
    err = error_from_response(503, "<html>oops</html>")
    assert isinstance(err, ServerError) and err.retryable
    err = error_from_response(429, {}, {"Retry-After": "7"})
    assert isinstance(err, RateLimited) and err.retry_after == 7.0
    assert isinstance(error_from_response(408, None), Unavailable)


def test_money_and_phone_helpers():
    assert format_cents(4500) == "$45.00" and format_cents(123456) == "$1,234.56" and format_cents(5) == "$0.05"
    assert to_e164("(845) 266-0384") == "+18452660384" and to_e164("12") is None


# ---------------------------------------------------------------- products and pagination

def test_list_page_with_limit(server):
    async def go(c: Commerce7Client):
        return await c.list_page("product", "products", page=2, limit=5), await c.list_page("product", "products")
    page2, page1 = with_client(server, go)
    assert len(page2.items) == 5 and page2.total == len(server.state["products"])
    assert len(page1.items) == page1.total == len(server.state["products"])


def test_limit_51_is_a_typed_validation_error(server):
    with pytest.raises(ValidationError) as err:
        with_client(server, lambda c: c.list_page("product", "products", limit=51))
    assert err.value.status == 422 and "limit" in err.value.fields()


def test_cursor_walk_collects_every_product_once(server):
    async def go(c: Commerce7Client):
        pages = [p async for p in c.iter_pages("product", "products", limit=4)]
        return pages, await c.list_products()
    pages, products = with_client(server, go)
    ids = [p["id"] for page in pages for p in page]
    assert len(pages) == -(-len(server.state["products"]) // 4)
    assert len(ids) == len(set(ids)) == len(server.state["products"])
    assert {p.id for p in products} == set(ids)


def test_list_products_filters_and_models(server):
    wines = with_client(server, lambda c: c.list_products(type="Wine", web_status="Available"))
    assert len(wines) == 12 and all(w.type == "Wine" for w in wines)
    reserve = next(w for w in wines if w.title == "Reserve Cabernet Franc")
    assert (reserve.price_cents, reserve.price, reserve.vintage, reserve.varietal) == (4500, "$45.00", 2022, "Cabernet Franc")
    assert reserve.variants[0].available and reserve.variants[0].available > 0
    brut = next(w for w in wines if w.title == "HVV Right Bank Brut Cuvee")
    assert brut.vintage is None
    found = with_client(server, lambda c: c.list_products(q="chardonnay"))
    assert {p.title for p in found} == {"Farmhouse Chardonnay", "Reserve Chardonnay"}
    fetched = with_client(server, lambda c: c.get_product(reserve.id))
    assert fetched.slug == reserve.slug
    by_slug = with_client(server, lambda c: c.get_product_by_slug(reserve.slug or ""))
    assert by_slug.id == reserve.id


# ---------------------------------------------------------------- customers

def test_create_customer_then_duplicate_email_is_422(server):
    async def go(c: Commerce7Client):
        created = await c.create_customer("Ana", "Ortiz", "ana.ortiz@example.com", "+15550102030",
                                          birth_date="1990-02-03")
        with pytest.raises(ValidationError) as err:
            await c.create_customer("Ana", "Again", "ANA.ORTIZ@example.com")
        return created, err.value
    created, err = with_client(server, go)
    assert created.email == "ana.ortiz@example.com" and created.phones == ["+15550102030"]
    assert created.raw["countryCode"] == "US"   # defaulted because a phone was given
    assert "emails" in err.fields()
    assert len(customers_with_email(server, "ana.ortiz@example.com")) == 1


def test_bad_phone_is_rejected(server):
    with pytest.raises(ValidationError) as err:
        with_client(server, lambda c: c.create_customer("Bo", "Li", "bo@example.com", "845-266-0384"))
    assert "phones" in err.value.fields()


def test_find_customer_by_email_and_phone(server):
    async def go(c: Commerce7Client):
        return (await c.find_customer_by_email("Jordan.Rivera@EXAMPLE.com"),
                await c.find_customer_by_email("nobody@example.com"),
                await c.find_customer_by_phone("(555) 123-4567"),
                await c.find_customer_by_phone("+1 555 000 0000"))
    by_email, missing, by_phone, no_phone = with_client(server, go)
    assert by_email is not None and by_email.first_name == "Jordan"
    assert missing is None and no_phone is None
    assert by_phone is not None and by_phone.id == by_email.id


def test_a_number_in_another_country_is_not_the_us_number_with_the_same_digits(server):
    # +248 is the Seychelles; its "248 555 0199" must not be taken for Michigan's (248) 555-0199
    async def go(c: Commerce7Client):
        await c.create_customer("Lee", "Park", "lee.park@example.com", "+12485550199")
        return (await c.find_customer_by_phone("+248 555 0199"), await c.find_customer_by_phone("(248) 555-0199"),
                await c.find_customer_by_phone("+1 248-555-0199"))
    seychelles, local, us = with_client(server, go)
    assert seychelles is None
    assert local is not None and us is not None and local.id == us.id and local.has_phone("248.555.0199")
    assert not us.has_phone("+248 555 0199")


def test_find_by_phone_is_one_search_request_not_a_walk(server):
    async def go(c: Commerce7Client):
        for i in range(60):   # > one page of 50
            await c.create_customer("Walk", f"Er{i}", f"walker{i}@example.com")
        await c.create_customer("Last", "One", "last@example.com", "+15550009999")
        server.emulator.requests.clear()
        return await c.find_customer_by_phone("+1 (555) 000-9999")
    found = with_client(server, go, rate_limit_per_minute=1000)
    assert found is not None and found.email == "last@example.com"
    assert [(r["method"], r["path"]) for r in server.emulator.requests] == [("GET", "/v1/customer")]


def test_a_phone_shared_by_two_customers_identifies_nobody(server):
    async def go(c: Commerce7Client):
        await c.create_customer("Twin", "One", "twin1@example.com", "+15550007777")
        await c.create_customer("Twin", "Two", "twin2@example.com", "+15550007777")
        return await c.find_customers_by_phone("+15550007777"), await c.find_customer_by_phone("+15550007777")
    both, one = with_client(server, go)
    assert len(both) == 2 and one is None


def test_put_replaces_arrays_whole(server):
    async def go(c: Commerce7Client):
        jordan = await c.find_customer_by_email("jordan.rivera@example.com")
        assert jordan is not None
        keep = jordan.raw["emails"][0]
        updated = await c.update_customer(jordan.id, {
            "phones": [{"phone": "+15550001111"}],
            "emails": [keep, {"email": "jordan.work@example.com"}]})
        return jordan, updated
    before, after = with_client(server, go)
    assert after.phones == ["+15550001111"]          # old phone gone, not merged
    assert after.emails == ["jordan.rivera@example.com", "jordan.work@example.com"]
    assert after.raw["emails"][0]["id"] == before.raw["emails"][0]["id"]
    assert after.first_name == before.first_name      # top-level fields untouched


# ---------------------------------------------------------------- addresses and memberships

def test_address_and_membership_validation(server):
    location = server.emulator.location_id

    async def go(c: Commerce7Client):
        clubs = {club.title: club for club in await c.list_clubs()}
        cust = await c.create_customer("Lee", "Park", "lee.park@example.com")
        other = await c.find_customer_by_email("priya.shah@example.com")
        assert other is not None
        other_addr = (await c.list_addresses(other.id))[0]
        errors = {}
        for name, kwargs in {
            "ship_without_address": dict(order_delivery_method="Ship"),
            "ship_foreign_address": dict(order_delivery_method="Ship", ship_to_address_id=other_addr.id),
            "pickup_without_location": dict(order_delivery_method="Pickup"),
            "pickup_bad_location": dict(order_delivery_method="Pickup", pickup_location_id="nope"),
            "future_signup": dict(order_delivery_method="Pickup", pickup_location_id=location,
                                  signup_date=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat()),
        }.items():
            method = kwargs.pop("order_delivery_method")
            with pytest.raises(ValidationError) as err:
                await c.create_club_membership(cust.id, clubs["Jumper"].id, method, **kwargs)
            errors[name] = err.value.fields()
        addr = await c.add_address(cust.id, {"firstName": "Lee", "lastName": "Park", "address": "1 Main St",
                                             "city": "Rhinebeck", "stateCode": "NY", "zipCode": "12572",
                                             "countryCode": "US"})
        shipped = await c.create_club_membership(cust.id, clubs["Jumper"].id, "Ship", ship_to_address_id=addr.id)
        picked = await c.create_club_membership(cust.id, clubs["Grand Prix"].id, "Pickup",
                                                pickup_location_id=(await c.list_inventory_locations())[0].id)
        with pytest.raises(ValidationError) as dup:
            await c.create_club_membership(cust.id, clubs["Jumper"].id, "Pickup", pickup_location_id=location)
        return errors, addr, shipped, picked, dup.value, await c.get_customer(cust.id), \
            await c.list_memberships(customer_id=cust.id, active_only=True)

    errors, addr, shipped, picked, dup, cust, active = with_client(server, go)
    assert errors == {"ship_without_address": {"shipToCustomerAddressId"},
                      "ship_foreign_address": {"shipToCustomerAddressId"},
                      "pickup_without_location": {"pickupInventoryLocationId"},
                      "pickup_bad_location": {"pickupInventoryLocationId"},
                      "future_signup": {"signupDate"}}
    assert addr.is_default and addr.zip_code == "12572"
    assert shipped.is_active and shipped.order_delivery_method == "Ship"
    assert picked.is_active and picked.order_delivery_method == "Pickup"
    assert "clubId" in dup.fields()
    assert {c.club_title for c in cust.clubs} == {"Jumper", "Grand Prix"}
    assert cust.raw["orderInformation"]["isActiveClubMember"] is True
    assert {m.id for m in active} == {shipped.id, picked.id}


def test_cancelled_membership_does_not_block_rejoining(server):
    async def go(c: Commerce7Client):
        sam = await c.find_customer_by_email("sam.whitaker@example.com")
        assert sam is not None
        jumper = next(cl for cl in await c.list_clubs() if cl.title == "Jumper")
        before = await c.list_memberships(customer_id=sam.id, club_id=jumper.id)
        new = await c.create_club_membership(sam.id, jumper.id, "Pickup",
                                             pickup_location_id=server.emulator.location_id)
        return before, new
    before, new = with_client(server, go)
    assert [m.status for m in before] == ["Cancelled"] and new.is_active


# ---------------------------------------------------------------- subscribe and loyalty

def test_subscribe_new_existing_and_already_subscribed(server):
    async def go(c: Commerce7Client):
        return (await c.subscribe("new.reader@example.com", first_name="Nia"),
                await c.subscribe("NEW.reader@example.com"),
                await c.subscribe("sam.whitaker@example.com"),
                await c.subscribe("jordan.rivera@example.com"))
    new, again, sam, jordan = with_client(server, go)
    assert new.created and not new.already_subscribed
    assert again.already_subscribed and again.customer_id == new.customer_id
    assert not sam.created and not sam.already_subscribed
    assert jordan.already_subscribed
    stored = server.state["customers"][new.customer_id]
    assert stored["emailMarketingStatus"] == "Subscribed" and stored["firstName"] == "Nia"
    # Sam unsubscribed: the assistant never subscribes him again.
    assert server.state["customers"][sam.customer_id]["emailMarketingStatus"] == "Unsubscribed"


def test_loyalty_points_tier_and_history(server):
    async def go(c: Commerce7Client):
        jordan = await c.find_customer_by_phone(JORDAN_PHONE)
        assert jordan is not None
        return await c.get_loyalty(jordan.id), await c.list_loyalty_transactions(jordan.id)
    balance, history = with_client(server, go)
    assert balance is not None and (balance.points, balance.tier) == (12400, "Grand Prix")
    assert sum(t.points for t in history) == 12400


# ---------------------------------------------------------------- rate limits, retries, timeouts

def test_429_retry_after_is_honoured(server):
    server.set_faults(rate_limit=2, rate_window_s=1.0)

    async def go(c: Commerce7Client):
        started = time.monotonic()
        clubs = [await c.list_clubs() for _ in range(3)]
        return clubs, time.monotonic() - started
    clubs, elapsed = with_client(server, go)
    assert all(len(x) == 3 for x in clubs)
    assert statuses(server, "GET", "/v1/club") == [200, 200, 429, 200]
    assert elapsed >= 0.9   # waited the Retry-After: 1 second


def test_rate_limited_error_when_retries_run_out(server):
    server.set_faults(rate_limit=1, rate_window_s=60.0)
    with pytest.raises(RateLimited) as err:
        with_client(server, lambda c: asyncio.gather(c.list_clubs(), c.list_clubs()),
                    max_retries=1, retry_after_cap=0.05)
    assert err.value.retry_after and err.value.retry_after > 1


def test_client_side_limiter_spaces_requests(server):
    async def go(c: Commerce7Client):
        started = time.monotonic()
        for _ in range(4):
            await c.list_page("club", "clubs")
        return time.monotonic() - started
    elapsed = with_client(server, go, rate_limit_per_minute=3, rate_window_s=0.5)
    assert elapsed >= 0.45
    assert 429 not in statuses(server, "GET", "/v1/club")


def test_500s_are_retried_then_succeed(server):
    server.set_faults(fail_next=2)
    clubs = with_client(server, lambda c: c.list_clubs())
    assert len(clubs) == 3
    assert statuses(server, "GET", "/v1/club") == [500, 500, 200]


def test_persistent_500_raises_server_error_after_bounded_retries(server):
    server.set_faults(error_rate=1.0)
    with pytest.raises(ServerError):
        with_client(server, lambda c: c.list_clubs(), max_retries=2)
    assert statuses(server, "GET", "/v1/club") == [500, 500, 500]


def test_down_is_server_error(server):
    server.set_faults(down=True)
    with pytest.raises(ServerError) as err:
        with_client(server, lambda c: c.list_clubs(), max_retries=1)
    assert err.value.status == 503


def test_timeouts_become_unavailable_after_bounded_retries(server):
    server.set_faults(latency_ms=400)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        with_client(server, lambda c: c.list_clubs(), timeout=0.1, max_retries=2)
    assert time.monotonic() - started < 3


def test_connection_refused_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again before use: nothing listens there

    async def go():
        async with Commerce7Client(f"http://127.0.0.1:{port}/v1", "a", "b", "t", timeout=0.5,
                                   max_retries=1, backoff_base=0.01) as c:
            await c.list_clubs()
    with pytest.raises(Unavailable):
        run(go())


def test_plain_post_is_not_retried_after_a_500(server):
    server.set_faults(fail_next=1, methods=["POST"])
    with pytest.raises(ServerError):
        with_client(server, lambda c: c.create_customer("Pat", "Doe", "pat@example.com"))
    assert statuses(server, "POST", "/v1/customer") == [500]


def test_idempotent_create_does_not_duplicate_after_timeout(server):
    # The emulator creates the customer, then answers after 1.2 s: the client gives up at 0.4 s.
    server.set_faults(slow_next=1, slow_ms=1200, methods=["POST"])
    customer = with_client(server, lambda c: c.create_customer_idempotent("Tim", "Out", "tim.out@example.com"),
                           timeout=0.4)
    assert customer.email == "tim.out@example.com"
    assert len(customers_with_email(server, "tim.out@example.com")) == 1
    assert len([r for r in server.emulator.requests if r["method"] == "POST"]) == 1


def test_idempotent_create_after_500_that_was_committed(server):
    server.set_faults(fail_next=1, fail_mode="after", methods=["POST"])
    customer = with_client(server, lambda c: c.create_customer_idempotent("Com", "Mit", "commit@example.com"))
    assert customer.first_name == "Com"
    assert len(customers_with_email(server, "commit@example.com")) == 1
    assert statuses(server, "POST", "/v1/customer") == [500]


def test_idempotent_create_retries_when_nothing_landed(server):
    server.set_faults(fail_next=1, methods=["POST"])   # refused before processing
    customer = with_client(server, lambda c: c.create_customer_idempotent("Re", "Try", "retry@example.com"))
    assert customer.email == "retry@example.com"
    assert statuses(server, "POST", "/v1/customer") == [500, 200]
    assert len(customers_with_email(server, "retry@example.com")) == 1


def test_idempotent_membership_does_not_duplicate_after_timeout(server):
    async def setup(c: Commerce7Client):
        cust = await c.create_customer("Mem", "Ber", "member@example.com")
        club = next(cl for cl in await c.list_clubs() if cl.title == "Triple Crown")
        return cust, club
    cust, club = with_client(server, setup)
    server.set_faults(slow_next=1, slow_ms=1200, methods=["POST"])
    membership = with_client(server, lambda c: c.create_membership_idempotent(
        cust.id, club.id, "Pickup", pickup_location_id=server.emulator.location_id), timeout=0.4)
    active = [m for m in server.state["clubMemberships"].values()
              if m["customerId"] == cust.id and m["status"] == "Active"]
    assert [m["id"] for m in active] == [membership.id]
