"""Writes to Commerce7 made by the forms: a club signup and a mailing-list subscription.

Every step looks before it creates, so running a signup twice (a customer who
repeats the flow, or the outbox retrying after an ambiguous failure) leaves one
customer, one address and one membership.

An email that already belongs to a customer is only used by someone who proved they own
that account (`owner_id`): otherwise nothing is written, not even the typed phone, and
nothing about the account (its memberships) is looked at.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from dataclasses import asdict, dataclass
from typing import Any, Optional

from core.commerce7 import account_changes
from core.commerce7.client import Commerce7Client
from core.commerce7.errors import Commerce7Error, ValidationError
from core.commerce7.models import Customer
from core.commerce7.outbox import Job, Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClubSignup:
    tier: str
    first_name: str
    last_name: str
    email: str
    phone: str          # E.164
    birth_date: str     # YYYY-MM-DD
    delivery: str       # Ship | Pickup
    street: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    owner_id: str = ""  # the customer this conversation proved to be ("" = nobody proven)
    started_at: float = 0.0  # when the customer confirmed it (epoch seconds): see created_by

    @property
    def key(self) -> str:
        return "club:" + hashlib.sha256(f"{self.email.lower()}|{self.tier}".encode()).hexdigest()[:24]

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SignupResult:
    customer_id: str
    membership_id: str
    already_member: bool
    created: bool = False   # the customer was created by this signup


class OwnershipRequired(ValidationError):
    """The email is an existing customer's, and this signup has not proven it is theirs."""

    def __init__(self, customer: Customer):
        super().__init__("the email belongs to an existing customer; ownership not proven", status=403,
                         type="ownershipRequired")
        self.customer = customer


# Outbox jobs kept for staff only (never delivered by the assistant).
STAFF_KINDS = frozenset({"club_signup_review", "subscribe_review"}) | account_changes.STAFF_TASKS


def keep_for_staff(outbox: Outbox, kind: str, key: str, payload: dict[str, Any], reason: str,
                   request: Optional[str] = None) -> Job:
    """A request the assistant must not carry out itself: kept in the outbox for staff.

    Args: request: the customer turn it came from (actions/turns.py), so a replay keeps one job.
    """
    job = outbox.enqueue(kind, key, payload, request=request)
    outbox.mark_attention(job, reason)
    return job


async def _club_id(client: Commerce7Client, tier: str) -> str:
    for club in await client.list_clubs():
        if (club.title or "").strip().casefold() == tier.casefold():
            return club.id
    raise ValidationError(f"no club named {tier!r} in Commerce7", status=422, type="validationError")


async def _pickup_location(client: Commerce7Client, configured: Optional[str]) -> str:
    if configured:
        return configured
    locations = await client.list_inventory_locations()
    if not locations:
        raise ValidationError("no pickup location in Commerce7", status=422, type="validationError")
    return locations[0].id


CLOCK_SKEW_S = 120.0


def created_by(signup: ClubSignup, customer: Customer) -> bool:
    """True when an earlier attempt of this very signup created the customer (an outbox retry
    after the first attempt was cut off): created after the signup was confirmed, with exactly
    the typed name, birth date and phone."""
    created = customer.raw.get("createdAt")
    if not signup.started_at or not isinstance(created, str):
        return False
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    same = (customer.first_name == signup.first_name and customer.last_name == signup.last_name
            and customer.birth_date == signup.birth_date and customer.phones == [signup.phone])
    return same and created_at >= signup.started_at - CLOCK_SKEW_S


async def perform_signup(client: Commerce7Client, signup: ClubSignup,
                         pickup_location_id: Optional[str] = None) -> SignupResult:
    club_id = await _club_id(client, signup.tier)
    customer = await client.find_customer_by_email(signup.email)
    created = customer is None
    if customer is None:
        customer = await client.create_customer_idempotent(
            signup.first_name, signup.last_name, signup.email, signup.phone,
            birth_date=signup.birth_date, country_code="US")
    elif customer.id != signup.owner_id and not created_by(signup, customer):
        raise OwnershipRequired(customer)
    elif not customer.has_phone(signup.phone) or not customer.birth_date:
        phones = [{k: v for k, v in p.items() if k in ("id", "phone")} for p in customer.raw.get("phones") or []]
        if not customer.has_phone(signup.phone):
            phones.append({"phone": signup.phone})
        await client.update_customer(customer.id, {"phones": phones, "countryCode": "US",
                                                   "birthDate": customer.birth_date or signup.birth_date})
    active = await client.list_memberships(customer.id, club_id, active_only=True)
    if active:
        return SignupResult(customer.id, active[0].id, already_member=True, created=created)
    if signup.delivery == "Ship":
        address = await client.add_address(customer.id, {
            "firstName": signup.first_name, "lastName": signup.last_name, "address": signup.street,
            "city": signup.city, "stateCode": signup.state, "zipCode": signup.zip, "countryCode": "US",
            "isDefault": True})
        membership = await client.create_membership_idempotent(
            customer.id, club_id, "Ship", ship_to_address_id=address.id, bill_to_address_id=address.id)
    else:
        location = await _pickup_location(client, pickup_location_id)
        membership = await client.create_membership_idempotent(customer.id, club_id, "Pickup",
                                                               pickup_location_id=location)
    log.info("club signup done: customer %s membership %s", customer.id, membership.id)
    return SignupResult(customer.id, membership.id, already_member=False, created=created)


def subscribe_key(email: str) -> str:
    return "subscribe:" + hashlib.sha256(email.lower().encode()).hexdigest()[:24]


async def deliver(job: Job, client: Commerce7Client, pickup_location_id: Optional[str] = None) -> dict[str, Any]:
    if job.kind in STAFF_KINDS:
        raise ValidationError("kept for staff", status=403, type="staffOnly")
    if job.kind == "club_signup":
        result = await perform_signup(client, ClubSignup(**job.payload), pickup_location_id)
        return asdict(result)
    if job.kind in account_changes.KINDS:
        return await account_changes.apply_change(client, job.kind, job.payload)
    if job.kind == "subscribe":
        result = await client.subscribe(job.payload["email"], job.payload.get("first_name"))
        return {"customer_id": result.customer_id, "already_subscribed": result.already_subscribed}
    raise ValueError(f"unknown outbox job kind {job.kind!r}")


async def process_outbox(outbox: Outbox, client: Commerce7Client, pickup_location_id: Optional[str] = None,
                         now: Optional[float] = None) -> dict[str, int]:
    """Deliver every due job once; returns counts of delivered / retried / needs attention."""
    counts = {"delivered": 0, "retry": 0, "attention": 0}
    for job in outbox.due(now):
        try:
            result = await deliver(job, client, pickup_location_id)
        except ValidationError as exc:
            outbox.mark_attention(job, f"{exc.status} {exc.type}: {exc}")
            counts["attention"] += 1
            log.error("outbox job %s (%s) refused by Commerce7: staff attention needed", job.id, job.kind)
        except Commerce7Error as exc:
            outbox.mark_retry(job, f"{exc.status} {exc.type}")
            counts["retry"] += 1
        else:
            outbox.mark_done(job, result)
            counts["delivered"] += 1
    return counts
