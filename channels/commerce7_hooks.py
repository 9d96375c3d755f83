"""Commerce7's webhooks: POST /webhooks/commerce7, answered at once, the work done by the jobs process.

Commerce7 posts `{"object", "action", "payload": {the whole object}, "user", "tenantId"}` and proves
itself only by the HTTP Basic auth set on the hook (C7_WEBHOOK_USER / C7_WEBHOOK_PASSWORD; no signature,
no event id; docs/commerce7.md). The receiver checks the auth (401 otherwise), the shape (400), the
tenant when C7_TENANT is set (403 for another tenant), records the event keyed by object id + action +
updatedAt (a replay is acknowledged and changes nothing) and answers 200. The jobs process reads the
recorded events (core/texting/sender.py): texts on orders ready for pickup, orders shipped and club
shipments about to process, to opted-in customers only.

Loaded by credentials.yml when C7_WEBHOOK_USER and C7_WEBHOOK_PASSWORD are set (scripts/run.py).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.outreach import OutreachStore
from core.settings import SharedSettings

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024  # an order with many lines is tens of KB


def _error(status: int, reason: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json({"error": reason}, status=status, headers=headers)


def _configured(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not value.strip() or value.strip().startswith("${"):
        return None
    return value.strip()


def event_key(obj: str, action: str, object_id: str, updated_at: Optional[str], payload: Any) -> str:
    """object + action + id + updatedAt; a payload without updatedAt is keyed by its content instead."""
    stamp = updated_at or "sha256:" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"{obj}|{action}|{object_id}|{stamp}"


class Commerce7Webhooks(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "commerce7"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(credentials.get("user"), credentials.get("password"), credentials.get("tenant"))

    def __init__(self, user: Optional[str], password: Optional[str], tenant: Optional[str] = None,
                 data_dir: Optional[Path] = None) -> None:
        self.user, self.password = _configured(user), _configured(password)
        if not (self.user and self.password):
            raise ValueError("commerce7 webhooks: user and password (C7_WEBHOOK_USER, C7_WEBHOOK_PASSWORD) are required")
        self.tenant = _configured(tenant)
        env = {**os.environ, "MILEA_DATA_DIR": str(data_dir)} if data_dir is not None else None
        self.store = OutreachStore(SharedSettings.from_env(env).sms_database)  # beside the SMS channel's state

    def url_prefix(self) -> Text:
        return "/webhooks"

    def _authorized(self, header: str) -> bool:
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        assert self.user and self.password
        return hmac.compare_digest(user.encode(), self.user.encode()) & \
            hmac.compare_digest(password.encode(), self.password.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("milea_commerce7_webhooks", __name__)

        @hook.route("/commerce7", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorized(request.headers.get("Authorization", "")):
                return _error(401, "HTTP Basic auth required (the user and password set on the Commerce7 web hook)",
                              {"WWW-Authenticate": 'Basic realm="commerce7"'})
            raw = request.body or b""
            if len(raw) > MAX_BODY:
                return _error(413, f"the body is larger than {MAX_BODY} bytes")
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return _error(400, "the body must be JSON")
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            obj, action, payload = body.get("object"), body.get("action"), body.get("payload")
            if not (isinstance(obj, str) and 0 < len(obj) <= 64 and isinstance(action, str) and 0 < len(action) <= 64):
                return _error(400, "'object' and 'action' must be short strings")
            if not isinstance(payload, dict) or not isinstance(payload.get("id"), (str, int)) \
                    or not str(payload["id"]).strip() or len(str(payload["id"])) > 128:
                return _error(400, "'payload' must be the object, with its 'id'")
            tenant = body.get("tenantId")
            if self.tenant and tenant is not None and tenant != self.tenant:
                return _error(403, "this web hook belongs to another Commerce7 tenant")
            updated = payload.get("updatedAt")
            key = event_key(obj, action, str(payload["id"]), updated if isinstance(updated, str) else None, payload)
            try:
                new = await asyncio.to_thread(self.store.record_event, key[:600], obj, action, str(payload["id"]),
                                              json.dumps(payload))
            except Exception as exc:  # Commerce7 retries a failure; it must not be lost silently
                log.error("Commerce7 web hook not recorded: %s", type(exc).__name__)
                return _error(503, "the event could not be recorded; retry")
            log.info("Commerce7 web hook: %s %s %s", obj, action, "recorded" if new else "already recorded (replay)")
            return response.json({"ok": True, "duplicate": not new})

        return hook
