"""Finding a customer by phone (an SMS sender's identity, a verification target) in a tenant
with 50,000 customers: Commerce7's customer search (`GET /customer?q=<E.164>`) against the old
walk over every customer, through the real client and the emulator's 100 requests/minute limit.
Writes bench/results/identity_lookup.json.

    .venv/actions/bin/python -m bench.identity_lookup [--customers 50000] [--lookups 60]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import time
from contextlib import aclosing

from core.commerce7.client import Commerce7Client
from core.commerce7.models import Customer
from bench.common import summarise, write_result
from commerce7_demo.emulator import EmulatorServer

SHARED = "+18455009999"   # one number on two customers: identifies nobody


def populate(server: EmulatorServer, n: int) -> list[str]:
    """n generated customers with distinct numbers (two share SHARED); returns their phones."""
    customers = server.state["customers"]
    phones = []
    for i in range(n):
        cid = f"bench-{i:06d}"
        phone = SHARED if i in (7, n // 2) else f"+1914{i:07d}"
        stamp = f"2025-02-01T00:00:00.{i % 1000:03d}Z"
        customers[cid] = {
            "id": cid, "firstName": f"Guest{i}", "lastName": "Bench", "birthDate": None, "countryCode": "US",
            "emailMarketingStatus": "Unsubscribed",
            "emails": [{"id": f"e{i}", "email": f"guest{i}@bench.example", "status": "Valid"}],
            "phones": [{"id": f"p{i}", "phone": phone}], "tags": [], "clubs": [], "metaData": {},
            "orderInformation": {"orderCount": 0, "lifetimeValue": 0, "currentClubTitle": None,
                                 "isActiveClubMember": False},
            "loyalty": {"tier": None, "loyaltyTierId": None, "points": i % 5000},
            "createdAt": stamp, "updatedAt": stamp}
        phones.append(phone)
    return phones


async def search_lookups(server: EmulatorServer, phones: list[str], lookups: int) -> dict:
    """Lookups as an SMS burst would make them: through the client's 100/minute limiter."""
    picks = random.Random(7).sample([p for p in phones if p != SHARED], lookups - 2) + [SHARED, "+19995550000"]
    latencies, per_lookup, statuses, found = [], [], [], 0
    async with Commerce7Client(server.url, server.app_id, server.secret, server.tenant) as client:
        started = time.perf_counter()
        for phone in picks:
            server.emulator.requests.clear()
            t0 = time.perf_counter()
            customer = await client.find_customer_by_phone(phone)
            latencies.append(time.perf_counter() - t0)
            per_lookup.append(len(server.emulator.requests))
            statuses += [r["status"] for r in server.emulator.requests]
            found += customer is not None
        wall = time.perf_counter() - started
    return {"lookups": lookups, "found_exactly_one": found, "requests_per_lookup_max": max(per_lookup),
            "requests_per_lookup_mean": round(sum(per_lookup) / len(per_lookup), 2),
            "latency": summarise(latencies), "wall_s": round(wall, 1),
            "http_429": statuses.count(429),
            "lookups_per_minute_within_limit": 100 // max(per_lookup)}


async def walk_lookup(server: EmulatorServer, phone: str) -> dict:
    """The old way: page through every customer comparing digits (limits off to time it at all)."""
    server.set_faults(rate_limit=0)
    server.emulator.requests.clear()
    async with Commerce7Client(server.url, server.app_id, server.secret, server.tenant,
                               rate_limit_per_minute=0) as client:
        t0 = time.perf_counter()
        hit = None
        async with aclosing(client.iter_pages("customer", "customers")) as pages:
            async for page in pages:
                hit = next((c for c in map(Customer.from_api, page) if c.has_phone(phone)), None)
                if hit:
                    break
        seconds = time.perf_counter() - t0
    requests = len(server.emulator.requests)
    server.set_faults(rate_limit=100)
    return {"found": hit is not None, "requests": requests, "seconds_unthrottled": round(seconds, 1),
            "minutes_at_100_per_minute": round(requests / 100, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=110, help="over 100: shows the limiter at work")
    args = parser.parse_args()
    server = EmulatorServer(None).start()
    try:
        phones = populate(server, args.customers)
        search = asyncio.run(search_lookups(server, phones, args.lookups))
        last = phones[-1]
        walk = asyncio.run(walk_lookup(server, last))
    finally:
        server.stop()
    path = write_result("identity_lookup", {
        "tenant_customers": args.customers + 4,
        "search": search,
        "walk_to_the_last_customer": walk,
        "note": ("search = GET /customer?q=<E.164> (one request per lookup, confirmed on phone digits); "
                 "walk = the former cursor walk over all customers"),
    })
    print(path.read_text())


if __name__ == "__main__":
    main()
