"""Web chat session ids the server issues, so a client cannot choose its conversation.

The widget (and any standard Rasa socket.io client: rasa-webchat) keeps the id `session_confirm`
gave it and presents it again after a reload. That id is a bearer, "<conversation>.<mac>": the
conversation is a fresh random name ("w" and 32 hex digits), the mac an HMAC of it under the
widget key. Only the conversation is used inside (the tracker's id, the socket.io room, what staff
see in the console); the bearer stays between the visitor's browser and the server. A client that
presents an id the server did not issue gets a new conversation, so nobody can open a chat under
a name they picked or learned from the console.

Ids the widget chose itself before this (32 hex digits, kept in visitors' browsers) open their
own conversation if it exists and was written only through the web chat; they are then confirmed
in the signed form, which the widget keeps from then on (`legacy_id`).

The key is WIDGET_SESSION_SECRET, or derived from RASA_AUTH_TOKEN (every replica has it; rotating
it starts every web visitor anew), or, with neither (tests of the channel alone), one per process.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from typing import Mapping, Optional

log = logging.getLogger(__name__)

_DERIVATION = b"milea widget session ids v1"
_CONVERSATION = re.compile(r"^w[0-9a-f]{32}$")
_LEGACY = re.compile(r"^[0-9a-f]{32}$")
MAC_CHARS = 32


def widget_key(env: Mapping[str, str] = os.environ) -> bytes:
    """The key session ids are signed with (see the module's docstring for where it comes from)."""
    own = (env.get("WIDGET_SESSION_SECRET") or "").strip()
    if own:
        return own.encode()
    rasa_token = (env.get("RASA_AUTH_TOKEN") or "").strip()
    if rasa_token:
        return hmac.new(rasa_token.encode(), _DERIVATION, hashlib.sha256).digest()
    log.warning("neither WIDGET_SESSION_SECRET nor RASA_AUTH_TOKEN is set: web chats end with this process")
    return secrets.token_bytes(32)


class WidgetSessions:
    """Issues web chat session ids and opens the conversation a presented one names."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def new_conversation(self) -> str:
        return "w" + secrets.token_hex(16)

    def bearer(self, conversation: str) -> str:
        """The session id a client is given for `conversation`."""
        return f"{conversation}.{self._mac(conversation)}"

    def opens(self, presented: Optional[str]) -> Optional[str]:
        """The conversation a presented session id opens, or None when the server did not issue it."""
        if not presented or presented.count(".") != 1:
            return None
        conversation, mac = presented.split(".")
        if not (_CONVERSATION.match(conversation) or _LEGACY.match(conversation)):
            return None
        return conversation if hmac.compare_digest(mac, self._mac(conversation)) else None

    def _mac(self, conversation: str) -> str:
        return hmac.new(self._key, b"conversation:" + conversation.encode(), hashlib.sha256).hexdigest()[:MAC_CHARS]


def legacy_id(presented: Optional[str]) -> bool:
    """An id the widget chose itself before the server issued them (32 hex digits)."""
    return bool(presented and _LEGACY.match(presented))

