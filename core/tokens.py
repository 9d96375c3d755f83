"""HS256 JWTs: the website's customer tokens, the channels' customer proofs (core/customer_proof.py) and
the verified state of a chat (actions/identity.py) are all signed and checked here, in both virtual
environments (nothing of Rasa or rasa_sdk is imported)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Optional

MAX_TOKEN_CHARS = 4096


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_token(claims: dict[str, Any], secret: str) -> str:
    """An HS256 JWT (the website signs these; tests use it too)."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64encode(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


def verify_token(token: object, secret: Optional[str], now: Optional[float] = None) -> Optional[dict[str, Any]]:
    """The claims of an HS256 JWT signed with `secret` whose `exp` has not passed; None for anything else."""
    if not secret or not isinstance(token, str) or token.count(".") != 2 or len(token) > MAX_TOKEN_CHARS:
        return None
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, TypeError, RecursionError):  # a payload of "[[[[..." thousands deep
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


def derived_key(secret: str, purpose: str) -> str:
    """A key for one purpose only, derived from `secret` (HMAC-SHA256 of the purpose's name): a token signed
    with it is never valid as one signed with `secret` itself, nor as one of another purpose."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
