"""The two ways the console acts on a conversation in the Rasa server.

- pause / resume: Rasa's own events appended through its HTTP API (RASA_AUTH_TOKEN); a paused
  conversation logs the customer's messages but the assistant does not answer.
- send: the staff channel (channels/staff.py) sends a staff reply through the customer's own
  channel and records it in the conversation.
"""
from __future__ import annotations

import time
from typing import Optional
from urllib.parse import quote

import aiohttp


class RasaUnavailable(Exception):
    """The Rasa server did not do what was asked; the message says what to tell staff."""


class Refused(Exception):
    """The staff channel refused the reply (opted out, too long, no live channel) with a reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class RasaClient:
    def __init__(self, base_url: str, token: str, staff_secret: str, timeout: float = 30.0) -> None:
        self.base_url, self.token, self.staff_secret = base_url.rstrip("/"), token, staff_secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def append_event(self, sender_id: str, event: str) -> None:
        # Rasa's Sanic routes take path parameters as sent (no unquoting): an SMS id '+1845...' must stay a '+'
        url = f"{self.base_url}/conversations/{quote(sender_id, safe='+@:')}/tracker/events"
        try:
            async with self._http().post(url, params={"token": self.token},
                                         json={"event": event, "timestamp": time.time()}) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"the assistant refused to {event} the conversation (HTTP {resp.status})")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"the assistant is not reachable ({type(exc).__name__}); try again") from None

    async def pause(self, sender_id: str) -> None:
        await self.append_event(sender_id, "pause")

    async def resume(self, sender_id: str) -> None:
        await self.append_event(sender_id, "resume")

    async def send(self, sender_id: str, channel: str, text: str, staff: str) -> None:
        """Send through the customer's channel; raises Refused with the channel's reason."""
        url = f"{self.base_url}/webhooks/staff/send"
        try:
            async with self._http().post(url, headers={"X-Staff-Secret": self.staff_secret},
                                         json={"sender_id": sender_id, "channel": channel, "text": text,
                                               "staff": staff}) as resp:
                if resp.status == 200:
                    return
                try:
                    reason = (await resp.json()).get("error") or f"HTTP {resp.status}"
                except (aiohttp.ContentTypeError, ValueError):
                    reason = f"HTTP {resp.status}"
                raise Refused(resp.status, reason)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"the assistant is not reachable ({type(exc).__name__}); try again") from None
