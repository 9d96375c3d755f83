"""A text the winery started, written into that customer's conversation (Rasa's HTTP API appends a bot
event), so staff see it in the inbox thread above the reply and the assistant answers the reply in context.

Best effort: the text was sent whatever happens here; a failure is logged (never the number or the text).
On when RASA_URL and RASA_AUTH_TOKEN are set for the jobs process (scripts/run.py sets them)."""
from __future__ import annotations

import logging
import time
from typing import Any, Optional
from urllib.parse import quote

import httpx

log = logging.getLogger("texting")


class ThreadNotes:
    def __init__(self, rasa_url: str, token: str, timeout: float = 5.0) -> None:
        self.base, self.token = rasa_url.rstrip("/"), token
        self._http = httpx.AsyncClient(timeout=timeout)

    async def note(self, phone: str, body: str, kind: str, campaign_id: Optional[str]) -> None:
        event: dict[str, Any] = {"event": "bot", "text": body, "timestamp": time.time(),
                                 "metadata": {"outreach": kind, **({"campaign_id": campaign_id} if campaign_id else {})}}
        try:
            response = await self._http.post(f"{self.base}/conversations/{quote(phone, safe='+')}/tracker/events",
                                              params={"token": self.token}, json=event)
            if response.status_code >= 300:
                log.warning("text not added to its conversation: HTTP %d", response.status_code)
        except httpx.HTTPError as exc:
            log.warning("text not added to its conversation: %s", type(exc).__name__)

    async def aclose(self) -> None:
        await self._http.aclose()
