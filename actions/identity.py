"""Who the customer is, when we can be sure. Three proofs, nothing else:

- a one-time code this conversation answered (verify_form): the `verified_customer` slot holds a
  token signed with the assistant's verification secret, bound to this conversation, expiring;
- a signed customer token from the website (`metadata.customer_token`);
- on SMS, the sender's number (the Twilio channel checks every request's signature) when it is
  on exactly one Commerce7 customer.

Tokens are HS256 JWTs carrying `sub` (the Commerce7 customer id) and `exp`. Anything
unverifiable means: unknown. Nothing the visitor types is ever taken as identity.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Optional

from rasa_sdk import Tracker

from core.commerce7.client import Commerce7Client
from core.commerce7.errors import Commerce7Error, NotFound
from core.commerce7.models import Customer
from actions.settings import Settings

VERIFIED_SMS_CHANNELS = {"twilio"}
VERIFIED_SLOT = "verified_customer"
LOOKUP_TIMEOUT_S = 8.0


@dataclass(frozen=True)
class Identity:
    customer_id: Optional[str] = None
    phone: Optional[str] = None


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_token(claims: dict, secret: str) -> str:
    """An HS256 JWT (the website signs these; tests use it too)."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64encode(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


def verify_token(token: object, secret: Optional[str], now: Optional[float] = None) -> Optional[dict]:
    if not secret or not isinstance(token, str) or token.count(".") != 2 or len(token) > 4096:
        return None
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, TypeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        return None
    expected = hmac.new(secret.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return None
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp < (time.time() if now is None else now):
        return None
    return claims


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
    """The identity this turn claims with a proof (no network): by code, token or SMS sender."""
    by_code = verified_by_code(tracker, settings)
    if by_code:
        return Identity(customer_id=by_code)
    metadata = (tracker.latest_message or {}).get("metadata")
    token = metadata.get("customer_token") if isinstance(metadata, dict) else None
    claims = verify_token(token, settings.customer_token_secret)
    if claims and isinstance(claims.get("sub"), str):
        return Identity(customer_id=claims["sub"])
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
