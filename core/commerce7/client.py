"""Async Commerce7 REST client for the action server.

- Basic auth (app id / secret) plus the `tenant` header on every request.
- A client-side sliding-window limiter keeps us under the tenant's 100 requests/minute.
- GET/PUT/DELETE are retried with exponential backoff + jitter on 408, 429, 5xx, timeouts and
  connection errors. A POST is retried only when it provably never ran (429, or the
  connection was never made); otherwise `*_idempotent` helpers look the object up first.
- Logs carry method, path (ids only, never the query string), status and duration: no
  personal data.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from contextlib import aclosing
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Optional, TypeVar

import httpx

from .errors import Commerce7Error, ServerError, Unavailable, ValidationError, error_from_response
from .models import (Address, Club, ClubMembership, ClubPackage, Customer, InventoryLocation, LoyaltyBalance,
                     LoyaltyTransaction, Order, Page, Product, SubscribeResult, to_e164)

logger = logging.getLogger(__name__)

T = TypeVar("T")
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures that happen before any byte of the request reached the server.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_LIMIT = 50
# A search that fills more pages than this is not a lookup of one person: stop there.
MAX_SEARCH_PAGES = 3
# club packages that are not a member's next shipment (Commerce7 admin: Planning until made Active; processed after)
CLOSED_PACKAGES = frozenset({"Planning", "Processed", "Closed", "Cancelled"})


class SlidingWindowLimiter:
    """At most `limit` acquisitions per rolling `window_s` seconds (one event loop).

    The window is counted a little longer than the server's (5%, at most 1 s): the server
    stamps a request when it arrives, later than we send it, so at the window's edge an
    exact count would still draw a 429 (seen in bench/identity_lookup.py).
    """

    def __init__(self, limit: int, window_s: float = 60.0):
        self.limit, self.window_s = limit, window_s + min(1.0, window_s * 0.05)
        self._stamps: collections.deque[float] = collections.deque()

    async def acquire(self) -> None:
        if self.limit <= 0:
            return
        while True:
            now = time.monotonic()
            while self._stamps and now - self._stamps[0] >= self.window_s:
                self._stamps.popleft()
            if len(self._stamps) < self.limit:
                self._stamps.append(now)   # no await since the check: safe without a lock
                return
            await asyncio.sleep(self._stamps[0] + self.window_s - now)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Commerce7Client:
    def __init__(self, base_url: str, app_id: str, secret: str, tenant: str, timeout: float = 5.0,
                 max_retries: int = 3, rate_limit_per_minute: int = 100,
                 transport: Optional[httpx.AsyncBaseTransport] = None, *,
                 backoff_base: float = 0.5, backoff_max: float = 8.0, retry_after_cap: float = 30.0,
                 rate_window_s: float = 60.0, limiter: Optional[SlidingWindowLimiter] = None):
        self.tenant = tenant
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max, self.retry_after_cap = backoff_base, backoff_max, retry_after_cap
        # Share one limiter between clients of the same tenant by passing it in.
        self.limiter = limiter or SlidingWindowLimiter(rate_limit_per_minute, rate_window_s)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", auth=httpx.BasicAuth(app_id, secret),
            headers={"tenant": tenant, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout), transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "Commerce7Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ transport

    async def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = None,
                      json: Any = None) -> Any:
        """One API call with limiter, retries and typed errors; returns parsed JSON (None for 204)."""
        method, path = method.upper(), path.lstrip("/")
        attempt = 0
        while True:
            await self.limiter.acquire()
            started = time.monotonic()
            try:
                response = await self._http.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:   # timeouts included
                self._log(method, path, type(exc).__name__, started, attempt)
                if self._may_retry(method, attempt, never_sent=isinstance(exc, _NEVER_SENT)):
                    attempt += 1
                    await self._backoff(attempt)
                    continue
                raise Unavailable(f"Commerce7 unreachable ({type(exc).__name__})", type="unavailable") from exc
            self._log(method, path, response.status_code, started, attempt)
            if response.is_success:
                if response.status_code == 204 or not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    raise Commerce7Error("Commerce7 answered invalid JSON", status=response.status_code,
                                         type="invalidResponse") from None
            error = error_from_response(response.status_code, _json_or_none(response), response.headers)
            # 429 means the request was refused before it ran, so even a POST may repeat it.
            if error.retryable and self._may_retry(method, attempt, never_sent=response.status_code == 429):
                attempt += 1
                await self._backoff(attempt, getattr(error, "retry_after", None))
                continue
            raise error

    def _may_retry(self, method: str, attempt: int, *, never_sent: bool) -> bool:
        return attempt < self.max_retries and (method in IDEMPOTENT_METHODS or never_sent)

    async def _backoff(self, attempt: int, retry_after: Optional[float] = None) -> None:
        if retry_after is not None:
            delay = min(retry_after, self.retry_after_cap)
        else:   # "equal jitter": spreads retries of many workers, never waits ~0
            ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
            delay = random.uniform(ceiling / 2, ceiling)
        await asyncio.sleep(delay)

    def _log(self, method: str, path: str, status: Any, started: float, attempt: int) -> None:
        ms = (time.monotonic() - started) * 1000
        ok = isinstance(status, int) and status < 400
        logger.log(logging.DEBUG if ok else logging.WARNING, "commerce7 %s /%s -> %s in %.0f ms (attempt %d)",
                   method, path, status, ms, attempt + 1)

    # ------------------------------------------------------------------ pagination

    async def iter_pages(self, path: str, key: str, params: Optional[Mapping[str, Any]] = None,
                         *, limit: int = MAX_LIMIT) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield each page of a cursor walk (`cursor=start` ... until no cursor comes back)."""
        query: dict[str, Any] = {**(params or {}), "limit": limit, "cursor": "start"}
        seen: set[str] = set()
        while True:
            body = await self.request("GET", path, params=query)
            items = (body or {}).get(key) or []
            if items:
                yield items
            cursor = (body or {}).get("cursor")
            if not cursor or not items or cursor in seen:   # a repeated cursor would loop forever
                return
            seen.add(cursor)
            query["cursor"] = cursor

    async def list_page(self, path: str, key: str, page: int = 1, limit: int = MAX_LIMIT,
                        params: Optional[Mapping[str, Any]] = None) -> Page:
        body = await self.request("GET", path, params={**(params or {}), "page": page, "limit": limit}) or {}
        total = body.get("total")
        return Page(items=list(body.get(key) or []), total=int(total) if total is not None else None)

    async def _all(self, path: str, key: str, params: Optional[Mapping[str, Any]] = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        async for page in self.iter_pages(path, key, params):
            items.extend(page)
        return items

    async def _all_by_page(self, path: str, key: str, params: Optional[Mapping[str, Any]] = None) -> list[dict[str, Any]]:
        """For endpoints without cursor support (clubs, locations, loyalty): small lists."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            result = await self.list_page(path, key, page=page, params=params)
            items.extend(result.items)
            if len(result.items) < MAX_LIMIT or (result.total is not None and len(items) >= result.total):
                return items
            page += 1

    # ------------------------------------------------------------------ idempotent create

    async def _create_with_lookup(self, create: Callable[[], Awaitable[T]],
                                  lookup: Callable[[], Awaitable[Optional[T]]]) -> T:
        """POST once; after an ambiguous failure look the object up before posting again."""
        try:
            return await create()
        except (ServerError, Unavailable) as exc:
            last: Commerce7Error = exc
        for attempt in range(1, self.max_retries + 1):
            await self._backoff(attempt)
            try:
                found = await lookup()
                if found is not None:
                    return found
                return await create()
            except ValidationError:
                # A duplicate now means an earlier attempt landed after our lookup.
                found = await lookup()
                if found is not None:
                    return found
                raise
            except (ServerError, Unavailable) as exc:
                last = exc
        raise last

    # ------------------------------------------------------------------ products

    async def list_products(self, **filters: Any) -> list[Product]:
        """All products matching filters (q, web_status/webStatus, type, updated_at="gt:<iso>"...)."""
        params = {_camel(k): v for k, v in filters.items() if v is not None}
        return [Product.from_api(p) for p in await self._all("product", "products", params)]

    async def get_product(self, product_id: str) -> Product:
        return Product.from_api(await self.request("GET", f"product/{product_id}"))

    async def get_product_by_slug(self, slug: str) -> Product:
        return Product.from_api(await self.request("GET", f"product/slug/{slug}/for-web"))

    # ------------------------------------------------------------------ customers

    async def get_customer(self, customer_id: str) -> Customer:
        return Customer.from_api(await self.request("GET", f"customer/{customer_id}"))

    async def find_customer_by_email(self, email: str) -> Optional[Customer]:
        """`q` may match more than the email (or fuzzy): confirm on emails[].email."""
        email = email.strip()
        if not email:
            return None
        async with aclosing(self.iter_pages("customer", "customers", {"q": email})) as pages:
            async for page in pages:
                for raw in page:
                    customer = Customer.from_api(raw)
                    if customer.has_email(email):
                        return customer
        return None

    async def find_customers_by_phone(self, phone: str, *, at_most: int = 2) -> list[Customer]:
        """Customers whose phones[] hold this number, found by the customer search (`q` = the
        E.164 number; one request for a normal result), each confirmed as the same phone. Stops after
        `at_most` matches: callers only need to know whether exactly one customer has it."""
        number = to_e164(phone)
        if number is None:
            return []
        found: list[Customer] = []
        pages = 0
        async with aclosing(self.iter_pages("customer", "customers", {"q": number})) as walk:
            async for page in walk:
                pages += 1
                found.extend(c for c in map(Customer.from_api, page) if c.has_phone(phone))
                if len(found) >= at_most or pages >= MAX_SEARCH_PAGES:
                    break
        return found[:at_most]

    async def find_customer_by_phone(self, phone: str) -> Optional[Customer]:
        """The one customer with this phone; None when nobody or several customers share it."""
        found = await self.find_customers_by_phone(phone)
        return found[0] if len(found) == 1 else None

    @staticmethod
    def _customer_payload(first_name: Optional[str], last_name: Optional[str], email: Optional[str],
                          phone: Optional[str], birth_date: Optional[str], email_marketing_status: str,
                          country_code: Optional[str], metadata: Optional[Mapping[str, Any]]) -> dict[str, Any]:
        payload: dict[str, Any] = {"emailMarketingStatus": email_marketing_status}
        for key, value in (("firstName", first_name), ("lastName", last_name), ("birthDate", birth_date)):
            if value:
                payload[key] = value
        if email:
            payload["emails"] = [{"email": email.strip()}]
        if phone:
            payload["phones"] = [{"phone": phone}]
            payload["countryCode"] = country_code or "US"   # required with a phone
        elif country_code:
            payload["countryCode"] = country_code
        if metadata:
            payload["metaData"] = dict(metadata)
        return payload

    async def create_customer(self, first_name: Optional[str] = None, last_name: Optional[str] = None,
                              email: Optional[str] = None, phone: Optional[str] = None, *,
                              birth_date: Optional[str] = None, email_marketing_status: str = "Unsubscribed",
                              country_code: Optional[str] = None,
                              metadata: Optional[Mapping[str, Any]] = None) -> Customer:
        """One POST, never retried after it may have run (see create_customer_idempotent)."""
        payload = self._customer_payload(first_name, last_name, email, phone, birth_date,
                                         email_marketing_status, country_code, metadata)
        body = await self.request("POST", "customer", params={"isSendTransactionEmail": "false"}, json=payload)
        return Customer.from_api(body)

    async def create_customer_idempotent(self, first_name: Optional[str] = None, last_name: Optional[str] = None,
                                         email: Optional[str] = None, phone: Optional[str] = None,
                                         **kwargs: Any) -> Customer:
        """Create, and on a timeout/5xx find the customer by email (or phone) before retrying."""
        async def create() -> Customer:
            return await self.create_customer(first_name, last_name, email, phone, **kwargs)

        async def lookup() -> Optional[Customer]:
            if email:
                return await self.find_customer_by_email(email)
            return await self.find_customer_by_phone(phone) if phone else None

        if not email and not phone:
            return await create()   # nothing to look up by: a single attempt only
        return await self._create_with_lookup(create, lookup)

    async def update_customer(self, customer_id: str, fields: Mapping[str, Any]) -> Customer:
        """PUT: top-level fields are partial, but arrays (emails, phones, tags) replace the old ones."""
        return Customer.from_api(await self.request("PUT", f"customer/{customer_id}", json=dict(fields)))

    async def subscribe(self, email: str, first_name: Optional[str] = None) -> SubscribeResult:
        """Create a Subscribed customer for a new email. An existing customer is never changed:
        whoever typed the email has not shown they own it, and one who unsubscribed stays so."""
        existing = await self.find_customer_by_email(email)
        if existing is not None:
            return SubscribeResult(existing.id, already_subscribed=existing.email_marketing_status == "Subscribed",
                                   created=False)
        customer = await self.create_customer_idempotent(first_name=first_name, email=email,
                                                         email_marketing_status="Subscribed")
        return SubscribeResult(customer.id, already_subscribed=False, created=True)

    # ------------------------------------------------------------------ addresses

    async def list_addresses(self, customer_id: str) -> list[Address]:
        return [Address.from_api(a) for a in
                await self._all_by_page(f"customer/{customer_id}/address", "customerAddresses")]

    async def add_address(self, customer_id: str, address: Mapping[str, Any]) -> Address:
        """POST an address; after an ambiguous failure reuse an identical address if one landed."""
        def same(a: Address) -> bool:
            return all(str(a.raw.get(k) or "").strip().casefold() == str(address.get(k) or "").strip().casefold()
                       for k in ("address", "city", "zipCode"))

        async def create() -> Address:
            return Address.from_api(await self.request("POST", f"customer/{customer_id}/address",
                                                       json=dict(address)))

        async def lookup() -> Optional[Address]:
            return next((a for a in await self.list_addresses(customer_id) if same(a)), None)

        return await self._create_with_lookup(create, lookup)

    async def update_address(self, customer_id: str, address_id: str, fields: Mapping[str, Any]) -> Address:
        return Address.from_api(await self.request("PUT", f"customer/{customer_id}/address/{address_id}",
                                                   json=dict(fields)))

    async def delete_address(self, customer_id: str, address_id: str) -> None:
        await self.request("DELETE", f"customer/{customer_id}/address/{address_id}")

    # ------------------------------------------------------------------ clubs

    async def list_clubs(self) -> list[Club]:
        return [Club.from_api(c) for c in await self._all_by_page("club", "clubs")]

    async def list_memberships(self, customer_id: Optional[str] = None, club_id: Optional[str] = None,
                               *, active_only: bool = False) -> list[ClubMembership]:
        params = {k: v for k, v in (("customerId", customer_id), ("clubId", club_id)) if v}
        memberships = [ClubMembership.from_api(m) for m in await self._all("club-membership", "clubMemberships", params)]
        return [m for m in memberships if m.is_active] if active_only else memberships

    async def create_club_membership(self, customer_id: str, club_id: str, order_delivery_method: str, *,
                                     ship_to_address_id: Optional[str] = None,
                                     bill_to_address_id: Optional[str] = None,
                                     pickup_location_id: Optional[str] = None,
                                     signup_date: Optional[str] = None,
                                     credit_card_id: Optional[str] = None) -> ClubMembership:
        """One POST. No card is collected in chat (PCI): members add one on the storefront."""
        payload: dict[str, Any] = {"customerId": customer_id, "clubId": club_id,
                                   "orderDeliveryMethod": order_delivery_method,
                                   "signupDate": signup_date or _utc_now_iso()}
        for key, value in (("shipToCustomerAddressId", ship_to_address_id),
                           ("billToCustomerAddressId", bill_to_address_id),
                           ("pickupInventoryLocationId", pickup_location_id),
                           ("customerCreditCardId", credit_card_id)):
            if value:
                payload[key] = value
        body = await self.request("POST", "club-membership", params={"isSendEmailConfirmation": "false"},
                                  json=payload)
        return ClubMembership.from_api(body)

    async def create_membership_idempotent(self, customer_id: str, club_id: str, order_delivery_method: str,
                                           **kwargs: Any) -> ClubMembership:
        """Create; after a timeout/5xx return the Active membership that appeared meanwhile."""
        before = {m.id for m in await self.list_memberships(customer_id, club_id, active_only=True)}
        kwargs.setdefault("signup_date", _utc_now_iso())   # same body on every attempt

        async def create() -> ClubMembership:
            return await self.create_club_membership(customer_id, club_id, order_delivery_method, **kwargs)

        async def lookup() -> Optional[ClubMembership]:
            fresh = await self.list_memberships(customer_id, club_id, active_only=True)
            return next((m for m in fresh if m.id not in before), None)

        return await self._create_with_lookup(create, lookup)

    async def get_membership(self, membership_id: str) -> ClubMembership:
        return ClubMembership.from_api(await self.request("GET", f"club-membership/{membership_id}"))

    async def update_membership(self, membership_id: str, fields: Mapping[str, Any]) -> ClubMembership:
        """PUT the given fields (orderDeliveryMethod, shipToCustomerAddressId, pickupInventoryLocationId...).
        Idempotent: the same body twice leaves the same membership."""
        body = await self.request("PUT", f"club-membership/{membership_id}", json=dict(fields))
        return ClubMembership.from_api(body)

    async def list_club_packages(self, club_id: Optional[str] = None) -> list[ClubPackage]:
        params = {"clubId": club_id} if club_id else None
        return [ClubPackage.from_api(k) for k in await self._all_by_page("club-package", "clubPackages", params)]

    async def next_package(self, club_id: str, after: Optional[str] = None) -> Optional[ClubPackage]:
        """The club's next package by process date (after `after`, an ISO time; default now), not one still
        being planned or already processed."""
        after = after or _utc_now_iso()
        upcoming = [k for k in await self.list_club_packages(club_id)
                    if k.process_date and k.process_date >= after and (k.status or "Active") not in CLOSED_PACKAGES]
        return min(upcoming, key=lambda k: k.process_date or "", default=None)

    # ------------------------------------------------------------------ orders

    async def list_orders(self, customer_id: str, *, last: int = 3) -> list[Order]:
        """The customer's `last` orders, newest first. One page of 50 holds a customer's orders in
        nearly every case; a longer history is walked with the cursor up to MAX_SEARCH_PAGES pages."""
        found: list[Order] = []
        pages = 0
        async with aclosing(self.iter_pages("order", "orders", {"customerId": customer_id})) as walk:
            async for page in walk:
                pages += 1
                found.extend(o for o in map(Order.from_api, page) if o.customer_id in (None, customer_id))
                if pages >= MAX_SEARCH_PAGES:
                    break
        found.sort(key=lambda o: o.submitted or "", reverse=True)
        return found[:last]

    async def get_order(self, order_id: str) -> Order:
        return Order.from_api(await self.request("GET", f"order/{order_id}"))

    # ------------------------------------------------------------------ loyalty, locations

    async def get_loyalty(self, customer_id: str) -> Optional[LoyaltyBalance]:
        """Points and tier from customer.loyalty; None when the tenant has no Loyalty extension."""
        return (await self.get_customer(customer_id)).loyalty

    async def list_loyalty_transactions(self, customer_id: str) -> list[LoyaltyTransaction]:
        raw = await self._all_by_page("loyalty-transaction", "loyaltyTransactions", {"customerId": customer_id})
        return [LoyaltyTransaction.from_api(t) for t in raw]

    async def list_inventory_locations(self) -> list[InventoryLocation]:
        return [InventoryLocation.from_api(loc)
                for loc in await self._all_by_page("inventory-location", "inventoryLocations")]


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
