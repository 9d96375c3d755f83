"""The emulator's web hooks: when its data changes it posts what Commerce7 posts to a web hook,
`{"object", "action", "payload": {the whole object}, "user", "tenantId"}` with HTTP Basic auth, to
--webhook-url (C7_EMU_WEBHOOK_URL; `make run` points it at the assistant's POST /webhooks/commerce7).

Deliveries run in the background, in order, retried a few times with a growing pause when the receiver
is down or answers 5xx (Commerce7 keeps retrying and disables a hook failing for 48 hours; the emulator
gives up sooner). `sent` keeps the last deliveries for tests (GET /__admin/webhooks).
"""
from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, Optional

import aiohttp

log = logging.getLogger("c7-emulator.webhooks")
ATTEMPTS = 6


class WebhookSender:
    def __init__(self, url: Optional[str], user: Optional[str], password: Optional[str], tenant: str) -> None:
        self.url, self.tenant = url, tenant
        self.auth = aiohttp.BasicAuth(user, password) if user and password else None
        self.sent: collections.deque = collections.deque(maxlen=500)
        self._queue: Optional[asyncio.Queue] = None
        self._task: Optional[asyncio.Task] = None

    def notify(self, obj: str, action: str, payload: dict[str, Any], user: str = "demo-admin") -> None:
        """Queue one delivery (no-op without a URL); called from the emulator's handlers."""
        if not self.url:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.ensure_future(self._deliver_all())
        self._queue.put_nowait({"object": obj, "action": action, "payload": payload, "user": user,
                                "tenantId": self.tenant})

    async def _deliver_all(self) -> None:
        assert self._queue is not None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                body = await self._queue.get()
                status = await self._deliver(session, body)
                self.sent.append({"object": body["object"], "action": body["action"],
                                  "id": body["payload"].get("id"), "status": status})

    async def _deliver(self, session: aiohttp.ClientSession, body: dict[str, Any]) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with session.post(str(self.url), json=body, auth=self.auth) as response:
                    if response.status < 500:
                        if response.status >= 400:
                            log.warning("web hook %s %s refused: HTTP %d", body["object"], body["action"],
                                        response.status)
                        return response.status
                    reason: Any = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                reason = type(exc).__name__
            await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
        log.warning("web hook %s %s not delivered: %s", body["object"], body["action"], reason)
        return reason
