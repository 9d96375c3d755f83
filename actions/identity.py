"""Who the customer is, when we can be sure. Three proofs, nothing else:

- a one-time code this conversation answered (verify_form): the `verified_customer` slot holds a
  token signed with the assistant's verification secret, bound to this conversation, expiring;
- the website's signed customer token, which the channel exchanged for `metadata.customer_proof`,
  bound to this conversation and channel (core/customer_proof.py): the raw token never reaches here;
- on SMS, the sender's number (the Twilio channel checks every request's signature) when it is
  on exactly one Commerce7 customer.

Tokens are HS256 JWTs (core/tokens.py) carrying `sub` (the Commerce7 customer id) and `exp`. Anything
unverifiable means: unknown. Nothing the visitor types is ever taken as identity.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Optional

from rasa_sdk import Tracker

from core.commerce7.client import Commerce7Client
from core.commerce7.errors import Commerce7Error, NotFound
from core.commerce7.models import Customer
from core.customer_proof import proven_customer
from core.tokens import sign_token, verify_token
from actions.settings import Settings

VERIFIED_SMS_CHANNELS = {"twilio"}
VERIFIED_SLOT = "verified_customer"
LOOKUP_TIMEOUT_S = 8.0


@dataclass(frozen=True)
class Identity:
    customer_id: Optional[str] = None
    phone: Optional[str] = None


def verified_slot_value(customer_id: str, sender_id: str, settings: Settings, now: Optional[float] = None,
                        channel: Optional[str] = None) -> str:
    """What verify_form stores once a code was right: this customer, this conversation on this
    channel (a message from another channel under the same id does not inherit it), until exp."""
    now = time.time() if now is None else now
    return sign_token({"sub": customer_id, "sid": sender_id, "ch": channel or "", "exp": now + settings.verified_ttl_s},
                      settings.verification_secret)


def verified_for(tracker: Tracker, customer_id: str, settings: Settings) -> str:
    """verified_slot_value for this tracker's conversation and the channel of its latest message."""
    return verified_slot_value(customer_id, tracker.sender_id, settings, channel=tracker.get_latest_input_channel())


def verified_by_code(tracker: Tracker, settings: Settings) -> Optional[str]:
    """The customer id this conversation proved with a code on this channel, while that proof lasts."""
    claims = verify_token(tracker.get_slot(VERIFIED_SLOT), settings.verification_secret)
    if (claims and claims.get("sid") == tracker.sender_id and isinstance(claims.get("sub"), str)
            and claims.get("ch") == (tracker.get_latest_input_channel() or "")):
        return claims["sub"]
    return None


def identify(tracker: Tracker, settings: Settings) -> Optional[Identity]:
    """The identity this turn claims with a proof (no network): by code, the website's token (as the
    channel's proof for this conversation and channel) or SMS sender."""
    by_code = verified_by_code(tracker, settings)
    if by_code:
        return Identity(customer_id=by_code)
    by_website = proven_customer((tracker.latest_message or {}).get("metadata"), tracker.sender_id,
                                 tracker.get_latest_input_channel() or "", settings.customer_token_secret)
    if by_website:
        return Identity(customer_id=by_website)
    if tracker.get_latest_input_channel() in VERIFIED_SMS_CHANNELS and tracker.sender_id.startswith("+"):
        return Identity(phone=tracker.sender_id)
    return None


async def identified_customer(tracker: Tracker, settings: Settings, client: Commerce7Client) -> Optional[Customer]:
    """The Commerce7 customer this conversation has proven to be, or None.

    An SMS number counts only when exactly one customer has it. Commerce7 errors propagate.
    """
    who = identify(tracker, settings)
    if who is None:
        return None
    if who.customer_id:
        try:
            return await asyncio.wait_for(client.get_customer(who.customer_id), LOOKUP_TIMEOUT_S)
        except NotFound:
            return None
    return await asyncio.wait_for(client.find_customer_by_phone(who.phone), LOOKUP_TIMEOUT_S)


async def proven_customer_id(tracker: Tracker, settings: Settings, client: Commerce7Client) -> str:
    """identified_customer's id; "" when none is proven or Commerce7 cannot say."""
    try:
        customer = await identified_customer(tracker, settings, client)
    except (Commerce7Error, asyncio.TimeoutError):
        return ""
    return customer.id if customer else ""
