"""Changes a proven customer asks the assistant to make to their own account, written through the
durable outbox (core/commerce7/outbox.py) so that each confirmed change lands exactly once.

Kinds (the outbox job's `kind`):
- club_delivery: switch a club membership between Ship and Pickup (Ship needs an address of the customer);
- club_address: ship a club membership to a new address (added to the customer's addresses first);
- customer_email / customer_phone: replace the email or phone on the account (proven by a code sent to it);
- customer_address: a new default address.

Each change is idempotent in Commerce7 (a PUT of the wanted state; an address added only when no identical
one exists), so an outbox retry after an ambiguous failure changes nothing twice. Every job names the
customer it is for, and a change to a membership of another customer is refused.

Requests the assistant never carries out itself (cancel, hold) are kept for staff (STAFF_TASKS); the
console's "Needs attention" lists them with the member's reason.
"""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from core.commerce7.client import Commerce7Client
from core.commerce7.errors import Commerce7Error, ValidationError
from core.commerce7.outbox import Outbox

KINDS = frozenset({"club_delivery", "club_address", "customer_email", "customer_phone", "customer_address"})
STAFF_TASKS = frozenset({"club_cancel_request", "club_hold_request"})
ADDRESS_KEYS = ("firstName", "lastName", "address", "address2", "city", "stateCode", "zipCode", "countryCode")


class NotTheirs(ValidationError):
    """The membership or address named in a change is not the customer's."""

    def __init__(self, what: str):
        super().__init__(f"{what} does not belong to this customer", status=403, type="notTheirs")


def change_key(kind: str, customer_id: str) -> str:
    """The outbox subject key of a change: what staff search by (no personal data in it)."""
    return f"{kind}:" + hashlib.sha256(customer_id.encode()).hexdigest()[:24]


def clean_address(address: Mapping[str, Any]) -> dict[str, Any]:
    return {k: address[k] for k in ADDRESS_KEYS if address.get(k) not in (None, "")}


def _same_place(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return all(str(a.get(k) or "").strip().casefold() == str(b.get(k) or "").strip().casefold()
               for k in ("address", "address2", "city", "stateCode", "zipCode"))


async def _address_id(client: Commerce7Client, customer_id: str, address: Mapping[str, Any],
                      default: bool = False) -> str:
    """The id of this address among the customer's, added when it is not there yet (so a replay adds none)."""
    body = {**clean_address(address), "countryCode": address.get("countryCode") or "US"}
    existing = next((a for a in await client.list_addresses(customer_id) if _same_place(a.raw, body)), None)
    if existing is not None:
        if default and not existing.is_default:
            await client.update_address(customer_id, existing.id, {"isDefault": True})
        return existing.id
    if default:
        body["isDefault"] = True
    return (await client.add_address(customer_id, body)).id


async def _their_membership(client: Commerce7Client, customer_id: str, membership_id: str) -> None:
    membership = await client.get_membership(membership_id)
    if membership.customer_id != customer_id:
        raise NotTheirs("the club membership")


async def apply_change(client: Commerce7Client, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Make one change in Commerce7 and read the result back; returns what is now on the account."""
    customer_id = str(payload["customer_id"])
    if kind == "club_delivery":
        membership_id = str(payload["membership_id"])
        await _their_membership(client, customer_id, membership_id)
        if payload["method"] == "Pickup":
            fields: dict[str, Any] = {"orderDeliveryMethod": "Pickup",
                                      "pickupInventoryLocationId": payload["pickup_location_id"]}
        else:
            address_id = payload.get("address_id")
            if address_id and address_id not in {a.id for a in await client.list_addresses(customer_id)}:
                raise NotTheirs("the address")
            address_id = address_id or await _address_id(client, customer_id, payload["address"])
            fields = {"orderDeliveryMethod": "Ship", "shipToCustomerAddressId": address_id}
        membership = await client.update_membership(membership_id, fields)
        return {"membership_id": membership.id, "method": membership.order_delivery_method,
                "ship_to": membership.ship_to_address_id, "pickup": membership.pickup_location_id}
    if kind == "club_address":
        membership_id = str(payload["membership_id"])
        await _their_membership(client, customer_id, membership_id)
        address_id = await _address_id(client, customer_id, payload["address"])
        membership = await client.update_membership(membership_id, {"orderDeliveryMethod": "Ship",
                                                                    "shipToCustomerAddressId": address_id})
        return {"membership_id": membership.id, "method": membership.order_delivery_method,
                "ship_to": membership.ship_to_address_id}
    if kind in ("customer_email", "customer_phone"):
        field, inner = ("emails", "email") if kind == "customer_email" else ("phones", "phone")
        customer = await client.get_customer(customer_id)
        entries = [{k: v for k, v in e.items() if k in ("id", inner)} for e in customer.raw.get(field) or []
                   if isinstance(e, dict)]
        new = str(payload["new"])
        if entries and str(entries[0].get(inner, "")).casefold() == new.casefold():
            return {inner: new, "changed": False}   # already there: a replay after the write landed
        rest = [e for e in entries[1:] if str(e.get(inner, "")).casefold() != new.casefold()]
        body: dict[str, Any] = {field: [{inner: new}, *rest]}
        if kind == "customer_phone":
            body["countryCode"] = customer.raw.get("countryCode") or "US"
        updated = await client.update_customer(customer_id, body)
        return {inner: (updated.emails if kind == "customer_email" else updated.phones)[:1], "changed": True}
    if kind == "customer_address":
        address_id = await _address_id(client, customer_id, payload["address"], default=True)
        return {"address_id": address_id}
    raise ValueError(f"unknown account change {kind!r}")


@dataclass(frozen=True)
class Outcome:
    """What happened to a confirmed change: done | queued (Commerce7 unreachable: the jobs process
    delivers it) | refused (Commerce7 refused it: staff see it in Needs attention)."""
    state: str
    job_id: str
    result: Optional[dict[str, Any]] = None
    reason: str = ""


async def submit(outbox: Outbox, client: Commerce7Client, kind: str, payload: dict[str, Any], request: str,
                 budget_s: float = 10.0) -> Outcome:
    """Queue a confirmed change once per customer turn (`request`: actions/turns.py), then deliver it now.

    A replay of the same turn finds the same job: done -> its result; taken by the first call or by the
    jobs process -> queued. A Commerce7 refusal is kept as refused (Needs attention), anything else is
    retried by the jobs process.
    """
    job = outbox.enqueue(kind, change_key(kind, str(payload["customer_id"])), payload, request=request)
    if job.status == "done":
        return Outcome("done", job.id, outbox.result_of(job.id))
    if job.status in ("refused", "attention", "cancelled"):
        return Outcome("refused", job.id, reason=job.last_error or "")
    if not outbox.claim_new(job):
        return Outcome("queued", job.id)
    try:
        result = await asyncio.wait_for(apply_change(client, kind, payload), budget_s)
    except ValidationError as exc:
        outbox.mark_refused(job, f"{exc.status} {exc.type}: {exc}")
        return Outcome("refused", job.id, reason=str(exc))
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        outbox.mark_retry(job, type(exc).__name__)
        return Outcome("queued", job.id)
    outbox.mark_done(job, result)
    return Outcome("done", job.id, result)
