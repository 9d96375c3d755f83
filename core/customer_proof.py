"""The website's customer token, exchanged by the channel for a proof bound to one conversation.

The website signs `metadata.customer_token` (HS256, CUSTOMER_TOKEN_SECRET, claims `sub` = the Commerce7
customer id and `exp`), and the widget sends it with every message. It is a bearer value: whoever holds
it is the customer until it expires. Rasa keeps a message's metadata in the tracker store and publishes
it to RabbitMQ, so the token never goes that far: the channel that receives a message (REST, socket.io)
calls `exchange` before the message reaches Rasa. A valid token becomes `customer_proof`, signed under a
key derived from CUSTOMER_TOKEN_SECRET for this purpose only and naming the customer (`sub`), the
conversation (`sid`), the channel (`ch`) and an `exp` no later than the token's; an invalid or expired
token is dropped. A `customer_proof` the client sent itself is always dropped: only the exchange makes one.
The actions (actions/identity.py) accept a proof only in the conversation and on the channel it names,
so a proof read from the database or the event bus proves nothing anywhere else.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from core.tokens import derived_key, sign_token, verify_token

TOKEN_KEY = "customer_token"  # what the website's page gives the widget
PROOF_KEY = "customer_proof"  # what the channel puts in its place
PROOF_PURPOSE = "customer proof v1"


def token_secret(env: Optional[Mapping[str, str]] = None) -> str:
    """CUSTOMER_TOKEN_SECRET ("" when the website signs no tokens)."""
    return ((os.environ if env is None else env).get("CUSTOMER_TOKEN_SECRET") or "").strip()


def issue(customer_id: str, conversation: str, channel: str, exp: float, secret: str) -> str:
    return sign_token({"sub": customer_id, "sid": conversation, "ch": channel, "exp": exp},
                      derived_key(secret, PROOF_PURPOSE))


def exchange(metadata: Any, conversation: str, channel: str, secret: Optional[str] = None,
             now: Optional[float] = None) -> Any:
    """The metadata to hand to Rasa: without `customer_token` and any client-sent `customer_proof`, with
    a proof for this conversation and channel when the token was valid. Anything but a dict (None, or what
    the channel refuses afterwards) is returned as it is. `secret` defaults to CUSTOMER_TOKEN_SECRET."""
    if not isinstance(metadata, dict) or (TOKEN_KEY not in metadata and PROOF_KEY not in metadata):
        return metadata
    cleaned = {key: value for key, value in metadata.items() if key not in (TOKEN_KEY, PROOF_KEY)}
    secret = token_secret() if secret is None else secret
    claims = verify_token(metadata.get(TOKEN_KEY), secret, now)
    if claims and isinstance(claims.get("sub"), str) and claims["sub"]:
        cleaned[PROOF_KEY] = issue(claims["sub"], conversation, channel, claims["exp"], secret)
    return cleaned


def proven_customer(metadata: Any, conversation: str, channel: str, secret: Optional[str],
                    now: Optional[float] = None) -> Optional[str]:
    """The customer id of the message's proof when it was made for this conversation on this channel and
    has not expired; None otherwise (no proof, another conversation's, a forged or a raw website token)."""
    proof = metadata.get(PROOF_KEY) if isinstance(metadata, dict) else None
    claims = verify_token(proof, derived_key(secret, PROOF_PURPOSE) if secret else None, now)
    customer = claims.get("sub") if claims else None
    if (claims and isinstance(customer, str) and customer
            and claims.get("sid") == conversation and claims.get("ch") == (channel or "")):
        return customer
    return None
