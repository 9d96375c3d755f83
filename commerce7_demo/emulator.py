"""A local HTTP emulator of the Commerce7 REST API subset the assistant uses.

It follows ../shared/reference/commerce7-api.md: Basic auth + `tenant` header, the error
envelope, page and cursor pagination, 100 requests/minute/tenant. It is a demo backend
and a test double, so it adds `/__admin/*` routes (no auth) to inject faults and reset state.

Run:  python -m commerce7_demo.emulator --port 7070 --data-file .data/c7-emulator.json
Test: EmulatorServer(tmp_path / "c7.json").start() -> .url == "http://127.0.0.1:<port>/v1"

Choices where the reference leaves room (the real API may differ):
- unknown tenant -> 401; malformed JSON body -> 400 `badRequest`; 404 envelope type `notFound`.
- Creates answer 200 with the object. Lists are ordered by (createdAt, id).
- Cursor values are opaque (base64 of the last sort key), so inserts do not shift a walk.
- Creating a club membership also sets the loyalty tier and adds the signup bonus
  (milea-facts: 100 / 200 / 400 points).
- `GET /customer?q=` matches names and emails (substring, case-insensitive) and, when q is made of
  phone characters only (7+ digits), the digits of phones[].phone: the search the assistant uses to
  find a texter by number.
- `POST /customer/subscribe` creates a Subscribed customer for a new email and leaves an existing
  one unchanged (an opt-out is never undone by a signup form).
- Latency is applied after the request was processed: a client that times out on a POST
  still finds the object afterwards (what a slow real server does).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import collections
import copy
import json
import logging
import math
import os
import random
import re
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

import yaml
from aiohttp import web

from commerce7_demo.webhooks import WebhookSender
from core.wine_types import wine_type
from core.paths import ROOT

log = logging.getLogger("c7-emulator")

SEED_PATH = Path(__file__).with_name("seed.yaml")
DEFAULT_FACTS = ROOT.parent / "shared" / "reference" / "milea-facts.yaml"
DEFAULT_APP_ID, DEFAULT_SECRET, DEFAULT_TENANT = "demo-app", "demo-secret", "milea-demo"

# Stable ids: the same seed always gives the same UUIDs (handy for demos and tests).
_NS = uuid.UUID("6f1b6a52-3c57-4d4e-9a55-6d2f3e0c7e01")
MAX_LIMIT = 50
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# A search term made of phone characters only is compared with the digits of phones[].phone.
PHONE_QUERY = re.compile(r"^[+\d\s().-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STOREFRONT = (("GET", re.compile(r"^/v1/product/for-web/?$")),
              ("GET", re.compile(r"^/v1/product/slug/[^/]+/for-web/?$")),
              ("POST", re.compile(r"^/v1/customer/subscribe/?$")))


# --------------------------------------------------------------------------- helpers

def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_dt(value: str) -> datetime:
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def next_on(month_day: str, now: datetime | None = None) -> str:
    """The next 'MM-DD' after now, at midnight New York time (05:00Z), as Commerce7 stamps it."""
    now = now or datetime.now(timezone.utc)
    month, day = (int(x) for x in month_day.split("-"))
    when = datetime(now.year, month, day, 5, tzinfo=timezone.utc)
    if when <= now:
        when = when.replace(year=now.year + 1)
    return iso(when)


def sid(*parts: Any) -> str:
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class ApiError(Exception):
    """Raised by handlers; rendered as the Commerce7 error envelope."""

    def __init__(self, status: int, type_: str, message: str,
                 errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message
        self.errors, self.headers = errors or [], headers or {}


def envelope(status: int, type_: str, message: str, errors: list | None = None,
             headers: dict[str, str] | None = None) -> web.Response:
    body = {"statusCode": status, "type": type_, "message": message, "errors": errors or []}
    return web.json_response(body, status=status, headers=headers)


def unauthorized() -> web.Response:
    return envelope(401, "unauthorized", "Unauthenticated User")


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validationError", f"{field}: {message}", [{"field": field, "message": message}])


def not_found(what: str) -> ApiError:
    return ApiError(404, "notFound", f"{what} not found")


# --------------------------------------------------------------------------- seed data

def _price_cents(value: Any) -> int:
    if isinstance(value, (int, float)):
        return int(round(value * 100))
    match = re.search(r"\$\s*(\d+(?:\.\d{1,2})?)", str(value))
    if not match:
        raise ValueError(f"no price in {value!r}")
    return int(round(float(match.group(1)) * 100))


def read_facts(path: Path) -> dict:
    """Load milea-facts.yaml, tolerating its YAML-ish sections.

    Some sections put a list and then mapping keys at the same indent (`wines:` is followed
    by `- {...}` items and `not_carried: [...]`), which strict YAML rejects. Such a section is
    read as {"items": [...the list...], **the keys}.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        if isinstance(data, dict):
            return data
    except yaml.YAMLError:
        pass
    facts: dict = {}
    for chunk in re.split(r"(?m)^(?=[A-Za-z_][\w-]*:)", text):
        if not re.match(r"[A-Za-z_]", chunk):
            continue   # leading comments
        try:
            facts.update(yaml.safe_load(chunk) or {})
            continue
        except yaml.YAMLError:
            pass
        header, _, body = chunk.partition("\n")
        items: list[str] = []
        rest: list[str] = []
        for line in body.splitlines():
            (items if line.startswith("  - ") and not rest else rest).append(line)
        section = yaml.safe_load("\n".join(line[2:] for line in rest)) or {}
        facts[header.split(":")[0]] = {"items": yaml.safe_load("\n".join(items)) or [], **section}
    return facts


def _section_items(section: Any) -> list[dict]:
    if isinstance(section, dict):
        section = section.get("items")
    return [x for x in section or [] if isinstance(x, dict)]


def catalog_from_facts(facts_path: Path, seed: dict) -> dict:
    """Wines, tastings, merchandise and clubs from milea-facts.yaml; the seed fills any gap."""
    facts = read_facts(facts_path)
    wines = []
    for w in _section_items(facts.get("wines")):
        vintage = w.get("vintage")
        wines.append({"title": w["title"], "vintage": vintage if isinstance(vintage, int) else None,
                      "varietal": w.get("varietal"), "price_cents": _price_cents(w["price"]),
                      **({"notes": w["notes"]} if w.get("notes") else {}),
                      **({"accolade": w["accolade"]} if w.get("accolade") else {})})
    tastings = []
    for t in _section_items(facts.get("tastings")):
        notes = "; ".join(str(x) for x in (t.get("duration"), t.get("includes")) if x)
        tastings.append({"title": t["name"], "price_cents": _price_cents(t["price"]),
                         **({"notes": notes} if notes else {})})
    flights = (facts.get("tastings") or {}).get("flights") if isinstance(facts.get("tastings"), dict) else None
    for f in _section_items(flights):
        tastings.append({"title": f["name"], "price_cents": _price_cents(f["price"])})
    merch = [{"title": m["title"], "price_cents": _price_cents(m["price"])}
             for m in _section_items(facts.get("merchandise"))]
    seed_clubs = {c["title"]: c for c in seed.get("clubs") or []}
    clubs = []
    for c in _section_items((facts.get("wine_club") or {}).get("tiers")):
        if "bottles_per_shipment" not in c:   # Winners Circle: invitation only, not a club yet
            continue
        clubs.append({"title": c["name"], "bottles_per_shipment": c["bottles_per_shipment"],
                      "price": c.get("price"), "wine_discount": str(c.get("wine_discount")),
                      **({"extras": c["extras"]} if c.get("extras") else {}),
                      "signup_bonus": seed_clubs.get(c["name"], {}).get("signup_bonus", 0)})
    found = {"wines": wines, "tastings": tastings, "merchandise": merch, "clubs": clubs}
    return {key: value for key, value in found.items() if value}


def load_seed(facts_path: Path | None = None, seed_path: Path = SEED_PATH) -> dict:
    seed = yaml.safe_load(Path(seed_path).read_text(encoding="utf-8"))
    if facts_path is not None and Path(facts_path).is_file():
        try:
            seed = {**seed, **catalog_from_facts(Path(facts_path), seed)}
        except (yaml.YAMLError, KeyError, ValueError, TypeError) as exc:
            log.warning("could not read %s (%s): using the bundled seed catalog", facts_path, exc)
    return seed


# Commerce7's labels of core.wine_types.wine_type's kinds
C7_WINE_TYPES = {"red": "Red", "rose": "Rose", "white": "White", "sparkling": "Sparkling", "": "White"}
BOTTLE_COLOURS = {"Red": "#5b1426", "Rose": "#e58a97", "White": "#d8c36a", "Sparkling": "#e9dca0"}
BOTTLE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 160" width="120" height="160">'
              '<rect width="120" height="160" fill="#f4ede4"/>'
              '<path d="M52 14h16v34c0 6 14 12 14 30v66a6 6 0 0 1-6 6H44a6 6 0 0 1-6-6V78c0-18 14-24 14-30z" '
              'fill="{colour}"/><rect x="42" y="92" width="36" height="30" rx="2" fill="#fbf7f1"/></svg>')


def build_state(seed: dict, tenant: str) -> dict:
    """Turn the seed description into the emulator's persisted state (Commerce7 shapes)."""
    base = parse_dt(seed.get("base_time", "2025-01-06T15:00:00Z"))
    tick = iter(range(10_000))

    def stamp() -> str:
        return iso(base + timedelta(minutes=next(tick)))

    locations = {}
    for loc in seed.get("inventory_locations") or []:
        lid = sid("location", loc["title"])
        locations[lid] = {"id": lid, **loc, "createdAt": stamp(), "updatedAt": iso(base)}
    location_id = next(iter(locations))

    products: dict[str, dict] = {}

    def add_product(kind: str, item: dict, index: int) -> None:
        vintage = item.get("vintage")
        slug = slugify(item["title"] + (f" {vintage}" if vintage else ""))
        pid = sid("product", slug)
        ts = stamp()
        notes, accolade = item.get("notes"), item.get("accolade")
        content = "".join(f"<p>{x}</p>" for x in (notes, accolade) if x)
        stocked = kind != "Tasting"
        variant = {
            "id": sid("variant", slug), "title": "750ml" if kind == "Wine" else "Default",
            "sku": f"MEV-{slug.upper()}"[:40], "price": int(item["price_cents"]), "comparePrice": None,
            "volumeInML": 750 if kind == "Wine" else None, "hasInventory": stocked,
            "inventoryPolicy": "Don't Sell" if stocked else "Sell",
            "inventory": ([{"inventoryLocationId": location_id,
                            "availableForSaleCount": 24 + (index * 37) % 180,
                            "reserveCount": 0, "allocatedCount": 0}] if stocked else None),
        }
        product = {
            "id": pid, "title": item["title"], "subTitle": None, "slug": slug, "type": kind,
            "webStatus": "Available", "adminStatus": "Available", "teaser": notes, "content": content,
            "image": f"/images/{slug}.svg" if kind == "Wine" else None,  # served by product_image
            "metaData": {"accolade": accolade} if accolade else {},
            "createdAt": ts, "updatedAt": ts, "wine": None, "variants": [variant],
            "collections": [], "security": {"availableTo": "Public"},
        }
        if kind == "Wine":
            product["wine"] = {"type": C7_WINE_TYPES[wine_type(item.get("varietal") or "")],
                               "varietal": item.get("varietal"), "vintage": vintage, "region": "New York",
                               "appellation": None, "countryCode": "US"}
        products[pid] = product

    for i, w in enumerate(seed.get("wines") or []):
        add_product("Wine", w, i)
    for i, t in enumerate(seed.get("tastings") or []):
        add_product("Tasting", t, i)
    for i, m in enumerate(seed.get("merchandise") or []):
        add_product("General Merchandise", m, i)

    clubs, tiers = {}, {}
    for c in seed.get("clubs") or []:
        cid = sid("club", c["title"])
        details = [f"{c['bottles_per_shipment']} bottles per shipment", c.get("price"),
                   f"discount: {c['wine_discount']}" if c.get("wine_discount") else None, c.get("extras")]
        clubs[cid] = {"id": cid, "title": c["title"], "slug": slugify(c["title"]), "type": "Traditional",
                      "content": "<ul>" + "".join(f"<li>{d}</li>" for d in details if d) + "</ul>",
                      "webStatus": "Available", "adminStatus": "Available",
                      "createdAt": stamp(), "updatedAt": iso(base)}
        tiers[c["title"]] = {"id": sid("loyalty-tier", c["title"]), "title": c["title"],
                             "signupBonus": int(c.get("signup_bonus") or 0)}
    club_by_title = {c["title"]: c for c in clubs.values()}

    packages = {}
    for k in seed.get("club_packages") or []:
        club = club_by_title[k["club"]]
        kid = sid("club-package", k["title"])
        packages[kid] = {"id": kid, "title": k["title"], "clubId": club["id"], "status": "Active",
                         "processDate": k.get("processDate") or next_on(k["processOn"]),
                         "items": list(k.get("items") or []),
                         "createdAt": stamp(), "updatedAt": iso(base)}

    customers, addresses, memberships, loyalty_tx, orders = {}, {}, {}, {}, {}
    for c in seed.get("customers") or []:
        cid = sid("customer", c["email"])
        ts = stamp()
        tier = tiers.get(c.get("loyaltyTier") or "")
        customer = {
            "id": cid, "firstName": c.get("firstName"), "lastName": c.get("lastName"),
            "birthDate": c.get("birthDate"), "countryCode": "US",
            "emailMarketingStatus": c.get("emailMarketingStatus", "Unsubscribed"),
            "emails": [{"id": sid("email", c["email"]), "email": c["email"], "status": "Valid"}],
            "phones": ([{"id": sid("phone", c["phone"]), "phone": c["phone"]}] if c.get("phone") else []),
            "tags": [], "clubs": [], "metaData": {},
            "orderInformation": {"orderCount": c.get("orderCount", 0), "lifetimeValue": c.get("lifetimeValue", 0),
                                 "currentClubTitle": None, "isActiveClubMember": False},
            "loyalty": {"tier": tier["title"] if tier else None, "loyaltyTierId": tier["id"] if tier else None,
                        "points": int(c.get("loyaltyPoints") or 0)},
            "createdAt": ts, "updatedAt": ts,
        }
        customers[cid] = customer
        for j, a in enumerate(c.get("addresses") or []):
            aid = sid("address", c["email"], j)
            addresses[aid] = {"id": aid, "customerId": cid, "address2": None, **a, "createdAt": ts, "updatedAt": ts}
        for j, t in enumerate(c.get("loyaltyTransactions") or []):
            tid = sid("loyalty", c["email"], j)
            loyalty_tx[tid] = {"id": tid, "customerId": cid, "points": int(t["points"]),
                               "transactionType": "Earned" if int(t["points"]) >= 0 else "Redeemed",
                               "notes": t.get("notes"), "orderId": None, "createdAt": t["createdAt"],
                               "updatedAt": t["createdAt"]}
        for j, m in enumerate(c.get("memberships") or []):
            club = club_by_title[m["club"]]
            mid = sid("membership", c["email"], m["club"], j)
            ship_to = None
            if m["orderDeliveryMethod"] == "Ship":
                ship_to = next(a["id"] for a in addresses.values() if a["customerId"] == cid)
            memberships[mid] = {
                "id": mid, "status": m.get("status", "Active"), "customerId": cid, "clubId": club["id"],
                "orderDeliveryMethod": m["orderDeliveryMethod"], "signupDate": m["signupDate"],
                "cancelDate": m.get("cancelDate"), "billToCustomerAddressId": ship_to,
                "shipToCustomerAddressId": ship_to, "customerCreditCardId": None,
                "pickupInventoryLocationId": location_id if m["orderDeliveryMethod"] == "Pickup" else None,
                "createdAt": m["signupDate"], "updatedAt": m.get("cancelDate") or m["signupDate"],
            }
            _link_membership(customer, memberships[mid], club)
        for o in c.get("orders") or []:
            order = _seed_order(o, customer, addresses, location_id)
            orders[order["id"]] = order
    return {
        "meta": {"tenant": tenant, "seededAt": now_iso(), "inventoryLocationId": location_id},
        "products": products, "clubs": clubs, "loyaltyTiers": tiers, "customers": customers,
        "addresses": addresses, "clubMemberships": memberships, "loyaltyTransactions": loyalty_tx,
        "inventoryLocations": locations, "orders": orders, "clubPackages": packages,
    }


SHIP_TOTAL_CENTS, TAX_RATE = 1500, 0.08   # demo values: the emulator's orders are invented


def _seed_order(o: dict, customer: dict, addresses: dict, location_id: str) -> dict:
    """One order of the seed in the Commerce7 order shape (docs/commerce7.md says which parts are verified)."""
    oid = sid("order", o["orderNumber"])
    items = [{"id": sid("order-item", o["orderNumber"], i), "productTitle": it["productTitle"],
              "productVariantTitle": "750ml", "quantity": int(it["quantity"]), "price": int(it["price"]),
              "type": "Wine"} for i, it in enumerate(o.get("items") or [])]
    sub = sum(i["price"] * i["quantity"] for i in items)
    ship = o["orderDeliveryMethod"] == "Ship"
    ship_total = SHIP_TOTAL_CENTS if ship else 0
    tax = int(round(sub * TAX_RATE))
    ship_to = None
    if ship:
        default = next((a for a in addresses.values() if a["customerId"] == customer["id"]), None)
        ship_to = {k: (default or {}).get(k) for k in ("firstName", "lastName", "address", "address2", "city",
                                                     "stateCode", "zipCode", "countryCode")}
    fulfillments = []
    if o.get("shipped"):
        shipped = o["shipped"]
        fulfillments.append({"id": sid("fulfillment", o["orderNumber"]), "type": "Shipped",
                             "fulfillmentDate": shipped["fulfillmentDate"],
                             "shipped": {"carrier": shipped["carrier"],
                                         "trackingNumbers": [shipped["trackingNumber"]]},
                             "items": [{"orderItemId": i["id"], "quantity": i["quantity"]} for i in items]})
    if o.get("pickedUp"):
        fulfillments.append({"id": sid("fulfillment", o["orderNumber"]), "type": "Picked Up",
                             "fulfillmentDate": o["pickedUp"], "shipped": None,
                             "items": [{"orderItemId": i["id"], "quantity": i["quantity"]} for i in items]})
    return {
        "id": oid, "orderNumber": int(o["orderNumber"]), "orderSubmittedDate": o["orderSubmittedDate"],
        "orderPaidDate": o["orderSubmittedDate"], "channel": o.get("channel", "Web"), "customerId": customer["id"],
        "customer": {"id": customer["id"], "firstName": customer["firstName"], "lastName": customer["lastName"]},
        "orderDeliveryMethod": o["orderDeliveryMethod"], "paymentStatus": o.get("paymentStatus", "Paid"),
        "fulfillmentStatus": o["fulfillmentStatus"], "pickupStatus": o.get("pickupStatus"), "shipTo": ship_to,
        "pickupInventoryLocationId": None if ship else location_id,
        "items": items, "subTotal": sub, "shipTotal": ship_total, "taxTotal": tax, "total": sub + ship_total + tax,
        "fulfillments": fulfillments, "createdAt": o["orderSubmittedDate"], "updatedAt": o["orderSubmittedDate"],
    }


def _link_membership(customer: dict, membership: dict, club: dict) -> None:
    """Mirror a membership into customer.clubs[] and orderInformation, as Commerce7 shows it."""
    customer["clubs"] = [c for c in customer["clubs"] if c["clubMembershipId"] != membership["id"]]
    customer["clubs"].append({"clubId": club["id"], "clubTitle": club["title"],
                              "signupDate": membership["signupDate"], "cancelDate": membership["cancelDate"],
                              "clubMembershipId": membership["id"]})
    if membership["status"] == "Active":
        customer["orderInformation"]["currentClubTitle"] = club["title"]
        customer["orderInformation"]["isActiveClubMember"] = True


# --------------------------------------------------------------------------- list helpers

def _sort_key(item: dict) -> tuple[str, str]:
    return (str(item.get("createdAt") or ""), str(item["id"]))


def _encode_cursor(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode_cursor(value: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        a, b = json.loads(raw)
        return (str(a), str(b))
    except (ValueError, TypeError, binascii.Error):
        raise invalid("cursor", "is not a valid cursor") from None


def _int_param(query: Any, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid(name, "must be an integer") from None


def paginate(request: web.Request, items: Iterable[dict], key: str,
             render: Callable[[dict], dict] = lambda x: x) -> dict:
    """Page style (`page`, `limit`, answers `total`) or cursor style (`cursor`, no `total`)."""
    q = request.query
    limit = _int_param(q, "limit", MAX_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    ordered = sorted(items, key=_sort_key)
    if "cursor" in q:
        cursor = q["cursor"]
        if cursor not in ("", "start"):
            after = _decode_cursor(cursor)
            ordered = [i for i in ordered if _sort_key(i) > after]
        chunk = ordered[:limit]
        body: dict[str, Any] = {key: [render(i) for i in chunk]}
        if len(ordered) > limit:
            body["cursor"] = _encode_cursor(_sort_key(chunk[-1]))
        return body
    page = _int_param(q, "page", 1)
    if page < 1:
        raise invalid("page", "must be 1 or more")
    chunk = ordered[(page - 1) * limit: page * limit]
    return {key: [render(i) for i in chunk], "total": len(ordered)}


_OPS = ("gte", "lte", "gt", "lt", "btw", "in")


def _match_op(actual: Any, expr: str, field: str, as_date: bool) -> bool:
    """Commerce7 filter operators: `gt:`, `gte:`, `lt:`, `lte:`, `btw:A|B`, `in:A|B`, else equality."""
    op, sep, arg = expr.partition(":")
    if op not in _OPS or not sep:
        op, arg = "eq", expr

    def conv(v: Any) -> Any:
        if not as_date:
            return v
        try:
            return parse_dt(str(v))
        except ValueError:
            raise invalid(field, f"invalid date {v!r}") from None

    if actual is None:
        return False
    a = conv(actual)
    if op == "in":
        return str(actual) in arg.split("|" if "|" in arg else ",")
    if op == "btw":
        lo, _, hi = arg.partition("|")
        return conv(lo) <= a <= conv(hi)
    b = conv(arg)
    return {"eq": a == b, "gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


# --------------------------------------------------------------------------- the emulator

class Emulator:
    """State, configuration, faults and route handlers of one emulated tenant."""

    def __init__(self, state_path: str | os.PathLike | None, app_id: str, secret: str, tenant: str, *,
                 facts_path: str | os.PathLike | None = None, seed_path: str | os.PathLike = SEED_PATH,
                 latency_ms: float = 0, error_rate: float = 0.0, down: bool = False,
                 rate_limit: int = 100, rate_window_s: float = 60.0, webhook_url: str | None = None,
                 webhook_user: str | None = None, webhook_password: str | None = None):
        self.state_path = Path(state_path) if state_path else None
        self.webhooks = WebhookSender(webhook_url, webhook_user, webhook_password, tenant)
        self.app_id, self.secret, self.tenant = app_id, secret, tenant
        self.facts_path = Path(facts_path) if facts_path else None
        self.seed_path = Path(seed_path)
        self._initial = {"latency_ms": latency_ms, "error_rate": error_rate, "down": down,
                         "rate_limit": rate_limit, "rate_window_s": rate_window_s}
        self.faults: dict[str, Any] = {}
        self.windows: dict[str, collections.deque] = {}
        self.requests: collections.deque = collections.deque(maxlen=2000)
        self._seed_data: dict | None = None
        self.reset_faults()
        self.state = self._load_or_seed()
        self.state.setdefault("orders", {})
        self.state.setdefault("clubPackages", {})

    # -- state ---------------------------------------------------------------
    def _seed(self) -> dict:
        if self._seed_data is None:   # parsed once: PyYAML is slow and tests reset often
            self._seed_data = load_seed(self.facts_path, self.seed_path)
        return build_state(copy.deepcopy(self._seed_data), self.tenant)

    def _load_or_seed(self) -> dict:
        if self.state_path and self.state_path.is_file():
            try:
                state = json.loads(self.state_path.read_text(encoding="utf-8"))
                if isinstance(state, dict) and "products" in state:
                    return self._upgrade(state)
            except ValueError:
                log.warning("state file %s is not valid JSON: reseeding", self.state_path)
        state = self._seed()
        self.state = state
        self.save()
        return state

    def _upgrade(self, state: dict) -> dict:
        """A state file written before orders and club packages existed gets the seed's (their ids are
        stable, so they attach to the same seeded customers and clubs)."""
        missing = [k for k in ("orders", "clubPackages") if k not in state]
        if missing:
            seeded = self._seed()
            for key in missing:
                state[key] = {k: v for k, v in seeded[key].items()
                              if key != "orders" or v["customerId"] in state.get("customers", {})}
        return state

    def save(self) -> None:
        if not self.state_path:
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_path)   # atomic: a crash never leaves half a file

    def reset(self) -> None:
        self.state = self._seed()
        self.state.setdefault("orders", {})
        self.state.setdefault("clubPackages", {})
        self.save()
        self.reset_faults()
        self.windows.clear()
        self.requests.clear()

    def reset_faults(self) -> None:
        self.faults = {**self._initial, "fail_next": 0, "fail_status": 500, "fail_mode": "before",
                       "slow_next": 0, "slow_ms": 0, "methods": None}

    _FAULT_TYPES: dict[str, Callable[[Any], Any]] = {
        "latency_ms": float, "error_rate": float, "down": bool, "rate_limit": int, "rate_window_s": float,
        "fail_next": int, "fail_status": int, "fail_mode": str, "slow_next": int, "slow_ms": float,
        "methods": lambda v: [str(m).upper() for m in v] if v else None,
    }

    def set_faults(self, **changes: Any) -> dict:
        """Admin knobs. fail_next/slow_next count down per request; `methods` scopes both
        (e.g. ["POST"]); fail_mode "after" runs the handler, then answers fail_status."""
        clean = {}
        for key, value in changes.items():
            if key not in self._FAULT_TYPES:
                raise invalid(key, "unknown fault setting")
            try:
                clean[key] = self._FAULT_TYPES[key](value)
            except (TypeError, ValueError):
                raise invalid(key, "wrong type") from None
        if clean.get("fail_mode", "before") not in ("before", "after"):
            raise invalid("fail_mode", "must be before or after")
        self.faults.update(clean)
        return dict(self.faults)

    @property
    def location_id(self) -> str:
        return self.state["meta"]["inventoryLocationId"]

    # -- gate: faults, auth, rate limit ---------------------------------------
    def _fault_applies(self, request: web.Request) -> bool:
        methods = self.faults.get("methods")
        return not methods or request.method.upper() in {m.upper() for m in methods}

    def _check_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("tenant", "") != self.tenant:
            return unauthorized()
        if any(m == request.method and rx.match(request.path) for m, rx in STOREFRONT):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return unauthorized()
        try:
            user, _, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return unauthorized()
        if (user, password) != (self.app_id, self.secret):
            return unauthorized()
        return None

    def _check_rate(self, tenant: str) -> web.Response | None:
        limit, window = int(self.faults["rate_limit"] or 0), float(self.faults["rate_window_s"])
        if limit <= 0:
            return None
        now = time.monotonic()
        stamps = self.windows.setdefault(tenant, collections.deque())
        while stamps and now - stamps[0] >= window:
            stamps.popleft()
        if len(stamps) >= limit:
            wait = max(1, math.ceil(stamps[0] + window - now))
            return envelope(429, "tooManyRequests", "Too many requests", headers={"Retry-After": str(wait)})
        stamps.append(now)
        return None

    @web.middleware
    async def gate(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        if request.path.startswith(("/__admin", "/images/")):  # images are public, as on Commerce7's CDN
            return await handler(request)
        started = time.monotonic()
        delay_ms = float(self.faults["latency_ms"] or 0)
        if self.faults["slow_next"] > 0 and self._fault_applies(request):
            self.faults["slow_next"] -= 1
            delay_ms += float(self.faults["slow_ms"] or 0)
        entry: dict[str, Any] = {"method": request.method, "path": request.path, "status": None, "ms": None}
        self.requests.append(entry)   # logged on arrival: tests count attempts still in flight
        response = await self._respond(request, handler)
        entry["status"] = response.status
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)   # after processing: the write already happened
        entry["ms"] = round((time.monotonic() - started) * 1000, 1)
        return response

    async def _respond(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        f = self.faults
        if f["down"]:
            return envelope(503, "serviceUnavailable", "Service Unavailable")
        fail_now = f["fail_next"] > 0 and self._fault_applies(request)
        if fail_now:
            f["fail_next"] -= 1
            if f["fail_mode"] == "before":
                return envelope(int(f["fail_status"]), "serverError", "Injected failure")
        if not fail_now and f["error_rate"] and random.random() < float(f["error_rate"]):
            return envelope(500, "serverError", "Injected failure")
        denied = self._check_auth(request) or self._check_rate(self.tenant)
        if denied is not None:
            return denied
        try:
            response = await handler(request)
        except ApiError as exc:
            response = envelope(exc.status, exc.type, exc.message, exc.errors, exc.headers)
        except web.HTTPException as exc:
            kind = "notFound" if exc.status == 404 else "methodNotAllowed" if exc.status == 405 else "error"
            response = envelope(exc.status, kind, exc.reason)
        except Exception:   # the emulator must answer like a server, never drop the socket
            log.exception("emulator handler failed")
            response = envelope(500, "serverError", "Internal Server Error")
        if fail_now:   # fail_mode "after": the work is done, the client only sees a 500
            return envelope(int(f["fail_status"]), "serverError", "Injected failure")
        return response

    # -- shared bits ----------------------------------------------------------
    async def _body(self, request: web.Request) -> dict:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "badRequest", "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "badRequest", "Request body must be a JSON object")
        return body

    def _get(self, collection: str, item_id: str, what: str) -> dict:
        item = self.state.get(collection, {}).get(item_id)
        if item is None:
            raise not_found(what)
        return item

    # -- products -------------------------------------------------------------
    def _filter_products(self, request: web.Request, web_only: bool = False) -> list[dict]:
        q = request.query
        items = list(self.state["products"].values())
        if web_only:
            items = [p for p in items if p["webStatus"] == "Available"
                     and p["security"]["availableTo"] == "Public"]
        if q.get("q"):
            needle = q["q"].casefold()
            items = [p for p in items if needle in p["title"].casefold()]
        for field in ("webStatus", "adminStatus", "type"):
            if q.get(field):
                items = [p for p in items if _match_op(p.get(field), q[field], field, False)]
        if q.get("collectionId"):
            items = [p for p in items if q["collectionId"] in [c.get("id") for c in p.get("collections") or []]]
        for field in ("updatedAt", "createdAt"):
            if q.get(field):
                items = [p for p in items if _match_op(p.get(field), q[field], field, True)]
        return items

    async def list_products(self, request: web.Request) -> web.Response:
        return web.json_response(paginate(request, self._filter_products(request), "products"))

    async def list_products_web(self, request: web.Request) -> web.Response:
        return web.json_response(paginate(request, self._filter_products(request, web_only=True), "products"))

    async def product_by_slug(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        for p in self.state["products"].values():
            if p["slug"] == slug and p["webStatus"] == "Available":
                return web.json_response(p)
        raise not_found("Product")

    async def get_product(self, request: web.Request) -> web.Response:
        return web.json_response(self._get("products", request.match_info["id"], "Product"))

    async def update_product(self, request: web.Request) -> web.Response:
        product = self._get("products", request.match_info["id"], "Product")
        body = await self._body(request)
        for key, value in body.items():
            if key not in ("id", "createdAt", "updatedAt"):
                product[key] = value
        product["updatedAt"] = now_iso()
        self.save()
        return web.json_response(product)

    # -- customers ------------------------------------------------------------
    def _email_owner(self, email: str) -> dict | None:
        wanted = email.casefold()
        for c in self.state["customers"].values():
            if any(e.get("email", "").casefold() == wanted for e in c.get("emails") or []):
                return c
        return None

    def _clean_emails(self, raw: Any, customer_id: str | None) -> list[dict]:
        if not isinstance(raw, list):
            raise invalid("emails", "must be an array")
        out, seen = [], set()
        for entry in raw:
            email = (entry or {}).get("email") if isinstance(entry, dict) else None
            if not isinstance(email, str) or not EMAIL.match(email.strip()):
                raise invalid("emails", "must contain valid email addresses")
            email = email.strip()
            owner = self._email_owner(email)
            if (owner and owner["id"] != customer_id) or email.casefold() in seen:
                raise invalid("emails", "Email already exists")
            seen.add(email.casefold())
            out.append({"id": entry.get("id") or str(uuid.uuid4()), "email": email,
                        "status": entry.get("status") or "Valid"})
        return out

    def _clean_phones(self, raw: Any) -> list[dict]:
        if not isinstance(raw, list):
            raise invalid("phones", "must be an array")
        out = []
        for entry in raw:
            phone = (entry or {}).get("phone") if isinstance(entry, dict) else None
            if not isinstance(phone, str) or not E164.match(phone):
                raise invalid("phones", "Phone must be in E.164 format, e.g. +15551234567")
            out.append({"id": entry.get("id") or str(uuid.uuid4()), "phone": phone})
        return out

    _CUSTOMER_FIELDS = ("firstName", "lastName", "birthDate", "emailMarketingStatus", "countryCode",
                        "emails", "phones", "tags", "metaData")

    def _apply_customer(self, customer: dict, body: dict) -> None:
        """Validate and apply writable fields; arrays and objects replace the old value whole."""
        changes: dict[str, Any] = {}
        for key in self._CUSTOMER_FIELDS:
            if key in body:
                changes[key] = body[key]
        if "emails" in changes:
            changes["emails"] = self._clean_emails(changes["emails"], customer.get("id"))
        if "phones" in changes:
            changes["phones"] = self._clean_phones(changes["phones"])
        if changes.get("birthDate") is not None:
            try:
                datetime.strptime(str(changes["birthDate"]), "%Y-%m-%d")
            except ValueError:
                raise invalid("birthDate", "must be YYYY-MM-DD") from None
        if "emailMarketingStatus" in changes and changes["emailMarketingStatus"] not in ("Subscribed", "Unsubscribed"):
            raise invalid("emailMarketingStatus", "must be Subscribed or Unsubscribed")
        for key in ("tags",):
            if key in changes and not isinstance(changes[key], list):
                raise invalid(key, "must be an array")
        merged = {**customer, **changes}
        if merged.get("phones") and not merged.get("countryCode"):
            raise invalid("countryCode", "countryCode is required when a phone is given")
        if not merged.get("emails") and not merged.get("phones"):
            raise invalid("emails", "an email or a phone is required")
        customer.update(changes)

    def _new_customer(self, body: dict) -> dict:
        ts = now_iso()
        customer = {
            "id": str(uuid.uuid4()), "firstName": None, "lastName": None, "birthDate": None,
            "countryCode": None, "emailMarketingStatus": "Unsubscribed", "emails": [], "phones": [],
            "tags": [], "clubs": [], "metaData": {},
            "orderInformation": {"orderCount": 0, "lifetimeValue": 0, "currentClubTitle": None,
                                 "isActiveClubMember": False},
            "loyalty": {"tier": None, "loyaltyTierId": None, "points": 0},
            "createdAt": ts, "updatedAt": ts,
        }
        self._apply_customer(customer, body)
        self.state["customers"][customer["id"]] = customer
        self.save()
        return customer

    async def list_customers(self, request: web.Request) -> web.Response:
        items = list(self.state["customers"].values())
        needle = (request.query.get("q") or "").strip().casefold()
        if needle:
            digits = re.sub(r"\D", "", needle)
            phone_like = bool(PHONE_QUERY.match(needle)) and len(digits) >= 7

            def hit(c: dict) -> bool:
                name = f"{c.get('firstName') or ''} {c.get('lastName') or ''}".casefold()
                if needle in name or any(needle in e.get("email", "").casefold() for e in c.get("emails") or []):
                    return True
                return phone_like and any(digits in re.sub(r"\D", "", p.get("phone", "")) for p in c.get("phones") or [])
            items = [c for c in items if hit(c)]
        if request.query.get("emailMarketingStatus"):
            items = [c for c in items if c["emailMarketingStatus"] == request.query["emailMarketingStatus"]]
        return web.json_response(paginate(request, items, "customers"))

    async def get_customer(self, request: web.Request) -> web.Response:
        return web.json_response(self._get("customers", request.match_info["id"], "Customer"))

    async def create_customer(self, request: web.Request) -> web.Response:
        customer = self._new_customer(await self._body(request))
        self.webhooks.notify("Customer", "Create", customer)
        return web.json_response(customer)

    async def update_customer(self, request: web.Request) -> web.Response:
        customer = self._get("customers", request.match_info["id"], "Customer")
        body = await self._body(request)
        draft = copy.deepcopy(customer)
        self._apply_customer(draft, body)   # validate on a copy: a 422 changes nothing
        draft["updatedAt"] = now_iso()
        customer.clear()
        customer.update(draft)
        self.save()
        self.webhooks.notify("Customer", "Update", customer)
        return web.json_response(customer)

    async def subscribe(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        email = body.get("email")
        if not isinstance(email, str) or not EMAIL.match(email.strip()):
            raise invalid("email", "must be a valid email address")
        customer = self._email_owner(email.strip())
        if customer is None:
            fields = {"emails": [{"email": email.strip()}], "emailMarketingStatus": "Subscribed"}
            for key in ("firstName", "lastName"):
                if body.get(key):
                    fields[key] = body[key]
            customer = self._new_customer(fields)
        # An existing customer is left as is: one who unsubscribed is never re-subscribed by a form.
        return web.json_response(customer)

    # -- addresses ------------------------------------------------------------
    _ADDRESS_FIELDS = ("firstName", "lastName", "address", "address2", "city", "stateCode", "zipCode",
                       "countryCode", "isDefault")
    _ADDRESS_REQUIRED = ("address", "city", "stateCode", "zipCode", "countryCode")

    def _customer_addresses(self, customer_id: str) -> list[dict]:
        return [a for a in self.state["addresses"].values() if a["customerId"] == customer_id]

    def _apply_address(self, address: dict, body: dict) -> None:
        changes = {k: body[k] for k in self._ADDRESS_FIELDS if k in body}
        merged = {**address, **changes}
        missing = [k for k in self._ADDRESS_REQUIRED if not str(merged.get(k) or "").strip()]
        if missing:
            raise ApiError(422, "validationError", f"{missing[0]}: is required",
                           [{"field": k, "message": "is required"} for k in missing])
        address.update(changes)
        if address.get("isDefault"):
            for other in self._customer_addresses(address["customerId"]):
                if other["id"] != address["id"]:
                    other["isDefault"] = False

    async def list_addresses(self, request: web.Request) -> web.Response:
        cid = self._get("customers", request.match_info["cid"], "Customer")["id"]
        return web.json_response(paginate(request, self._customer_addresses(cid), "customerAddresses"))

    async def create_address(self, request: web.Request) -> web.Response:
        cid = self._get("customers", request.match_info["cid"], "Customer")["id"]
        body = await self._body(request)
        ts = now_iso()
        address = {"id": str(uuid.uuid4()), "customerId": cid, "firstName": None, "lastName": None,
                   "address2": None, "isDefault": not self._customer_addresses(cid),
                   "createdAt": ts, "updatedAt": ts}
        self._apply_address(address, body)
        self.state["addresses"][address["id"]] = address
        self.save()
        return web.json_response(address)

    def _address_of(self, request: web.Request) -> dict:
        cid = self._get("customers", request.match_info["cid"], "Customer")["id"]
        address = self.state["addresses"].get(request.match_info["id"])
        if address is None or address["customerId"] != cid:
            raise not_found("Customer address")
        return address

    async def update_address(self, request: web.Request) -> web.Response:
        address = self._address_of(request)
        draft = dict(address)
        self._apply_address(draft, await self._body(request))
        draft["updatedAt"] = now_iso()
        address.update(draft)
        self.save()
        return web.json_response(address)

    async def delete_address(self, request: web.Request) -> web.Response:
        address = self._address_of(request)
        del self.state["addresses"][address["id"]]
        self.save()
        return web.Response(status=204)

    # -- clubs, memberships, locations, loyalty --------------------------------
    async def list_clubs(self, request: web.Request) -> web.Response:
        return web.json_response(paginate(request, self.state["clubs"].values(), "clubs"))

    async def get_club(self, request: web.Request) -> web.Response:
        return web.json_response(self._get("clubs", request.match_info["id"], "Club"))

    def _render_membership(self, m: dict) -> dict:
        c = self.state["customers"].get(m["customerId"]) or {}
        club = self.state["clubs"].get(m["clubId"]) or {}
        return {**m,
                "customer": {"id": c.get("id"), "firstName": c.get("firstName"), "lastName": c.get("lastName"),
                             "emails": c.get("emails", [])},
                "club": {"id": club.get("id"), "title": club.get("title"), "slug": club.get("slug"),
                         "type": club.get("type")}}

    async def list_memberships(self, request: web.Request) -> web.Response:
        q = request.query
        items = list(self.state["clubMemberships"].values())
        for field in ("customerId", "clubId", "status"):
            if q.get(field):
                items = [m for m in items if m[field] == q[field]]
        return web.json_response(paginate(request, items, "clubMemberships", self._render_membership))

    async def get_membership(self, request: web.Request) -> web.Response:
        m = self._get("clubMemberships", request.match_info["id"], "Club membership")
        return web.json_response(self._render_membership(m))

    async def create_membership(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        customer = self.state["customers"].get(str(body.get("customerId")))
        if customer is None:
            raise invalid("customerId", "customer does not exist")
        club = self.state["clubs"].get(str(body.get("clubId")))
        if club is None:
            raise invalid("clubId", "club does not exist")
        method = body.get("orderDeliveryMethod")
        if method not in ("Ship", "Pickup"):
            raise invalid("orderDeliveryMethod", "must be Ship or Pickup")
        own = {a["id"] for a in self._customer_addresses(customer["id"])}
        if method == "Ship" and body.get("shipToCustomerAddressId") not in own:
            raise invalid("shipToCustomerAddressId", "a ship-to address of this customer is required for Ship")
        if body.get("billToCustomerAddressId") and body["billToCustomerAddressId"] not in own:
            raise invalid("billToCustomerAddressId", "must be an address of this customer")
        if method == "Pickup" and body.get("pickupInventoryLocationId") not in self.state["inventoryLocations"]:
            raise invalid("pickupInventoryLocationId", "a pickup inventory location is required for Pickup")
        signup = body.get("signupDate") or now_iso()
        try:
            signup_dt = parse_dt(str(signup))
        except ValueError:
            raise invalid("signupDate", "must be an ISO-8601 date") from None
        if signup_dt > datetime.now(timezone.utc) + timedelta(seconds=60):
            raise invalid("signupDate", "cannot be in the future")
        for m in self.state["clubMemberships"].values():
            if m["customerId"] == customer["id"] and m["clubId"] == club["id"] and m["status"] == "Active":
                raise invalid("clubId", "customer already has an active membership in this club")
        ts = now_iso()
        membership = {
            "id": str(uuid.uuid4()), "status": "Active", "customerId": customer["id"], "clubId": club["id"],
            "orderDeliveryMethod": method, "signupDate": iso(signup_dt), "cancelDate": None,
            "billToCustomerAddressId": body.get("billToCustomerAddressId"),
            "shipToCustomerAddressId": body.get("shipToCustomerAddressId") if method == "Ship" else None,
            "customerCreditCardId": body.get("customerCreditCardId"),
            "pickupInventoryLocationId": body.get("pickupInventoryLocationId") if method == "Pickup" else None,
            "createdAt": ts, "updatedAt": ts,
        }
        self.state["clubMemberships"][membership["id"]] = membership
        _link_membership(customer, membership, club)
        tier = self.state["loyaltyTiers"].get(club["title"])
        if tier:
            customer["loyalty"].update(tier=tier["title"], loyaltyTierId=tier["id"])
            if tier["signupBonus"]:
                customer["loyalty"]["points"] += tier["signupBonus"]
                tid = str(uuid.uuid4())
                self.state["loyaltyTransactions"][tid] = {
                    "id": tid, "customerId": customer["id"], "points": tier["signupBonus"],
                    "transactionType": "Earned", "notes": f"{club['title']} signup bonus", "orderId": None,
                    "createdAt": ts, "updatedAt": ts}
        customer["updatedAt"] = ts
        self.save()
        self.webhooks.notify("Club Membership", "Create", self._render_membership(membership))
        return web.json_response(self._render_membership(membership))

    async def update_membership(self, request: web.Request) -> web.Response:
        """PUT a membership: delivery method, ship-to address, pickup location (validated on a copy)."""
        membership = self._get("clubMemberships", request.match_info["id"], "Club membership")
        body = await self._body(request)
        draft = dict(membership)
        for key in ("orderDeliveryMethod", "shipToCustomerAddressId", "billToCustomerAddressId",
                    "pickupInventoryLocationId"):
            if key in body:
                draft[key] = body[key]
        if draft["orderDeliveryMethod"] not in ("Ship", "Pickup"):
            raise invalid("orderDeliveryMethod", "must be Ship or Pickup")
        own = {a["id"] for a in self._customer_addresses(draft["customerId"])}
        if draft["orderDeliveryMethod"] == "Ship":
            if draft.get("shipToCustomerAddressId") not in own:
                raise invalid("shipToCustomerAddressId", "a ship-to address of this customer is required for Ship")
            draft["pickupInventoryLocationId"] = None
        else:
            if draft.get("pickupInventoryLocationId") not in self.state["inventoryLocations"]:
                raise invalid("pickupInventoryLocationId", "a pickup inventory location is required for Pickup")
            draft["shipToCustomerAddressId"] = None
        if draft.get("billToCustomerAddressId") and draft["billToCustomerAddressId"] not in own:
            raise invalid("billToCustomerAddressId", "must be an address of this customer")
        if membership["status"] == "Cancelled":
            raise invalid("status", "a cancelled membership cannot be changed")
        draft["updatedAt"] = now_iso()
        membership.update(draft)
        self.save()
        return web.json_response(self._render_membership(membership))

    async def list_club_packages(self, request: web.Request) -> web.Response:
        items = list(self.state.get("clubPackages", {}).values())
        for field in ("clubId", "status"):
            if request.query.get(field):
                items = [k for k in items if k[field] == request.query[field]]
        if request.query.get("processDate"):
            items = [k for k in items if _match_op(k.get("processDate"), request.query["processDate"],
                                                  "processDate", True)]
        return web.json_response(paginate(request, items, "clubPackages"))

    async def list_orders(self, request: web.Request) -> web.Response:
        q = request.query
        items = list(self.state.get("orders", {}).values())
        for field in ("customerId", "fulfillmentStatus", "orderDeliveryMethod", "channel"):
            if q.get(field):
                items = [o for o in items if _match_op(o.get(field), q[field], field, False)]
        if q.get("orderNumber"):
            items = [o for o in items if str(o["orderNumber"]) == q["orderNumber"]]
        if q.get("orderSubmittedDate"):
            items = [o for o in items if _match_op(o.get("orderSubmittedDate"), q["orderSubmittedDate"],
                                                  "orderSubmittedDate", True)]
        return web.json_response(paginate(request, items, "orders"))

    async def get_order(self, request: web.Request) -> web.Response:
        return web.json_response(self._get("orders", request.match_info["id"], "Order"))

    async def list_locations(self, request: web.Request) -> web.Response:
        return web.json_response(paginate(request, self.state["inventoryLocations"].values(), "inventoryLocations"))

    async def list_loyalty(self, request: web.Request) -> web.Response:
        items = list(self.state["loyaltyTransactions"].values())
        if request.query.get("customerId"):
            items = [t for t in items if t["customerId"] == request.query["customerId"]]
        return web.json_response(paginate(request, items, "loyaltyTransactions"))

    # -- admin (emulator only) ---------------------------------------------------
    # -- orders and club packages (the emulator's own write paths; each change posts a web hook) ---------
    _ORDER_FIELDS = ("orderNumber", "customerId", "orderDeliveryMethod", "pickupStatus", "fulfillmentStatus",
                     "fulfillments", "channel", "paymentStatus", "total")

    def _apply_order(self, order: dict, body: dict) -> None:
        for key in self._ORDER_FIELDS:
            if key in body:
                order[key] = body[key]
        if order.get("orderDeliveryMethod") not in ("Ship", "Pickup", "Carry Out"):
            raise invalid("orderDeliveryMethod", "must be Ship, Pickup or Carry Out")
        if not isinstance(order.get("fulfillments"), list):
            raise invalid("fulfillments", "must be an array")
        customer = self._get("customers", str(order.get("customerId") or ""), "Customer")
        order["customer"] = {k: customer.get(k) for k in ("id", "firstName", "lastName", "emails", "phones")}

    async def create_order(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        ts = now_iso()
        order = {"id": str(uuid.uuid4()), "orderNumber": 1000 + len(self.state["orders"]) + 1,
                 "orderDeliveryMethod": "Ship", "pickupStatus": None, "fulfillmentStatus": "Not Fulfilled",
                 "fulfillments": [], "channel": "Web", "paymentStatus": "Paid", "createdAt": ts, "updatedAt": ts}
        self._apply_order(order, body)
        self.state["orders"][order["id"]] = order
        self.save()
        self.webhooks.notify("Order", "Create", order)
        return web.json_response(order)

    async def update_order(self, request: web.Request) -> web.Response:
        order = self._get("orders", request.match_info["id"], "Order")
        draft = copy.deepcopy(order)
        self._apply_order(draft, await self._body(request))
        draft["updatedAt"] = now_iso()
        order.clear()
        order.update(draft)
        self.save()
        self.webhooks.notify("Order", "Update", order)
        return web.json_response(order)

    async def get_club_package(self, request: web.Request) -> web.Response:
        return web.json_response(self._get("clubPackages", request.match_info["id"], "Club Package"))

    def _apply_package(self, package: dict, body: dict) -> None:
        for key in ("clubId", "title", "processDate", "status"):
            if key in body:
                package[key] = body[key]
        club = self._get("clubs", str(package.get("clubId") or ""), "Club")
        package["clubTitle"] = club["title"]
        try:
            parse_dt(str(package.get("processDate")))
        except ValueError:
            raise invalid("processDate", "must be an ISO date") from None

    async def create_club_package(self, request: web.Request) -> web.Response:
        ts = now_iso()
        package = {"id": str(uuid.uuid4()), "title": "Club shipment", "status": "Not Processed",
                   "createdAt": ts, "updatedAt": ts}
        self._apply_package(package, await self._body(request))
        self.state["clubPackages"][package["id"]] = package
        self.save()
        self.webhooks.notify("Club Package", "Create", package)
        return web.json_response(package)

    async def update_club_package(self, request: web.Request) -> web.Response:
        package = self._get("clubPackages", request.match_info["id"], "Club Package")
        draft = copy.deepcopy(package)
        self._apply_package(draft, await self._body(request))
        draft["updatedAt"] = now_iso()
        package.clear()
        package.update(draft)
        self.save()
        self.webhooks.notify("Club Package", "Update", package)
        return web.json_response(package)

    async def admin_webhooks(self, request: web.Request) -> web.Response:
        return web.json_response({"url": self.webhooks.url, "sent": list(self.webhooks.sent)})

    async def admin_get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.faults)

    async def admin_set_faults(self, request: web.Request) -> web.Response:
        try:
            return web.json_response(self.set_faults(**await self._body(request)))
        except ApiError as exc:
            return envelope(exc.status, exc.type, exc.message, exc.errors)

    async def admin_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True, "faults": self.faults})

    async def admin_requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": list(self.requests)})

    async def product_image(self, request: web.Request) -> web.Response:
        """A small bottle picture (SVG made here, in the wine's colour) for a product's `image`."""
        wanted = "/images/" + request.match_info["name"]
        product = next((p for p in self.state["products"].values() if p.get("image") == wanted), None)
        if product is None:
            raise web.HTTPNotFound()
        colour = BOTTLE_COLOURS.get((product.get("wine") or {}).get("type"), BOTTLE_COLOURS["White"])
        return web.Response(text=BOTTLE_SVG.format(colour=colour), content_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=3600"})


EMULATOR_KEY: web.AppKey["Emulator"] = web.AppKey("emulator", Emulator)


def build_app(state_path: str | os.PathLike | None, app_id: str = DEFAULT_APP_ID,
              secret: str = DEFAULT_SECRET, tenant: str = DEFAULT_TENANT, **options: Any) -> web.Application:
    """The aiohttp app; options: facts_path, seed_path, latency_ms, error_rate, down,
    rate_limit, rate_window_s. The Emulator instance is app[EMULATOR_KEY]."""
    emu = Emulator(state_path, app_id, secret, tenant, **options)
    app = web.Application(middlewares=[emu.gate])
    app[EMULATOR_KEY] = emu
    r = app.router
    # Static segments before {id}: aiohttp matches resources in registration order.
    r.add_get("/v1/product/for-web", emu.list_products_web)
    r.add_get("/v1/product/slug/{slug}/for-web", emu.product_by_slug)
    r.add_get("/v1/product", emu.list_products)
    r.add_get("/v1/product/{id}", emu.get_product)
    r.add_put("/v1/product/{id}", emu.update_product)
    r.add_post("/v1/customer/subscribe", emu.subscribe)
    r.add_get("/v1/customer", emu.list_customers)
    r.add_post("/v1/customer", emu.create_customer)
    r.add_get("/v1/customer/{cid}/address", emu.list_addresses)
    r.add_post("/v1/customer/{cid}/address", emu.create_address)
    r.add_put("/v1/customer/{cid}/address/{id}", emu.update_address)
    r.add_delete("/v1/customer/{cid}/address/{id}", emu.delete_address)
    r.add_get("/v1/customer/{id}", emu.get_customer)
    r.add_put("/v1/customer/{id}", emu.update_customer)
    r.add_get("/v1/club", emu.list_clubs)
    r.add_get("/v1/club/{id}", emu.get_club)
    r.add_get("/v1/club-membership", emu.list_memberships)
    r.add_post("/v1/club-membership", emu.create_membership)
    r.add_get("/v1/club-membership/{id}", emu.get_membership)
    r.add_put("/v1/club-membership/{id}", emu.update_membership)
    r.add_get("/v1/order", emu.list_orders)
    r.add_post("/v1/order", emu.create_order)
    r.add_get("/v1/order/{id}", emu.get_order)
    r.add_put("/v1/order/{id}", emu.update_order)
    r.add_get("/v1/club-package", emu.list_club_packages)
    r.add_post("/v1/club-package", emu.create_club_package)
    r.add_get("/v1/club-package/{id}", emu.get_club_package)
    r.add_put("/v1/club-package/{id}", emu.update_club_package)
    r.add_get("/__admin/webhooks", emu.admin_webhooks)
    r.add_get("/v1/inventory-location", emu.list_locations)
    r.add_get("/v1/loyalty-transaction", emu.list_loyalty)
    r.add_get("/__admin/faults", emu.admin_get_faults)
    r.add_post("/__admin/faults", emu.admin_set_faults)
    r.add_post("/__admin/reset", emu.admin_reset)
    r.add_get("/__admin/requests", emu.admin_requests)
    r.add_get("/images/{name}", emu.product_image)
    return app


# --------------------------------------------------------------------------- background server

class EmulatorServer:
    """Runs the emulator on 127.0.0.1 in a background thread (for pytest fixtures and scripts)."""

    def __init__(self, state_path: str | os.PathLike | None = None, *, app_id: str = DEFAULT_APP_ID,
                 secret: str = DEFAULT_SECRET, tenant: str = DEFAULT_TENANT, host: str = "127.0.0.1",
                 port: int = 0, **options: Any):
        self.app = build_app(state_path, app_id, secret, tenant, **options)
        self.emulator: Emulator = self.app[EMULATOR_KEY]
        self.host, self.port = host, port
        self.app_id, self.secret, self.tenant = app_id, secret, tenant
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + "/v1"

    @property
    def state(self) -> dict:
        return self.emulator.state

    def set_faults(self, **changes: Any) -> dict:
        return self.emulator.set_faults(**changes)

    def reset(self) -> None:
        self.emulator.reset()

    def start(self) -> "EmulatorServer":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        ready, failure = threading.Event(), []
        self._loop = asyncio.new_event_loop()

        async def boot() -> None:
            self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(boot())
            except BaseException as exc:  # surfaced to start()'s caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="c7-emulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if not self._loop or not self._thread:
            return
        loop, runner = self._loop, self._runner

        async def shutdown() -> None:
            if runner is not None:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> None:
    env = os.environ
    p = argparse.ArgumentParser(description="Commerce7 API emulator (demo tenant: Milea Estate Vineyard)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7070)
    p.add_argument("--data-file", default=".data/c7-emulator.json", help="JSON state, written on every change")
    p.add_argument("--facts", default=None,
                   help="milea-facts.yaml for the first seed; the bundled seed is used when missing")
    p.add_argument("--app-id", default=env.get("C7_EMU_APP_ID", DEFAULT_APP_ID))
    p.add_argument("--secret", default=env.get("C7_EMU_SECRET", DEFAULT_SECRET))
    p.add_argument("--tenant", default=env.get("C7_EMU_TENANT", DEFAULT_TENANT))
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--error-rate", type=float, default=0.0, help="fraction of requests answered 500")
    p.add_argument("--down", action="store_true", help="answer 503 to everything")
    p.add_argument("--rate-limit", type=int, default=100, help="requests per window per tenant (0 = off)")
    p.add_argument("--rate-window-s", type=float, default=60.0)
    p.add_argument("--reset", action="store_true", help="discard the data file and reseed")
    p.add_argument("--webhook-url", default=env.get("C7_EMU_WEBHOOK_URL") or None,
                   help="post Commerce7-shaped web hooks here when data changes (Basic auth: C7_WEBHOOK_USER/PASSWORD)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_file = Path(args.data_file)
    if args.reset and data_file.exists():
        data_file.unlink()
    facts = Path(args.facts) if args.facts and Path(args.facts).is_file() else None
    app = build_app(data_file, args.app_id, args.secret, args.tenant, facts_path=facts,
                    latency_ms=args.latency_ms, error_rate=args.error_rate, down=args.down,
                    rate_limit=args.rate_limit, rate_window_s=args.rate_window_s, webhook_url=args.webhook_url,
                    webhook_user=env.get("C7_WEBHOOK_USER"), webhook_password=env.get("C7_WEBHOOK_PASSWORD"))
    log.info("Commerce7 emulator: http://%s:%d/v1 tenant=%s data=%s catalog=%s", args.host, args.port,
             args.tenant, data_file, facts or SEED_PATH.name)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
