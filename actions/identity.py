"""Who the customer is, when we can be sure: the SMS sender (the Twilio channel
verifies every request's signature) or a signed customer token from the website.

Tokens are HS256 JWTs signed with CUSTOMER_TOKEN_SECRET, carrying `sub` (the
Commerce7 customer id) and `exp`. Anything unverifiable means: unknown.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Optional

from rasa_sdk import Tracker

VERIFIED_SMS_CHANNELS = {"twilio"}


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


def identify(tracker: Tracker, token_secret: Optional[str]) -> Optional[Identity]:
    if tracker.get_latest_input_channel() in VERIFIED_SMS_CHANNELS and tracker.sender_id.startswith("+"):
        return Identity(phone=tracker.sender_id)
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    claims = verify_token(metadata.get("customer_token"), token_secret)
    if claims and isinstance(claims.get("sub"), str):
        return Identity(customer_id=claims["sub"])
    return None
