"""Twilio's Messages API for the jobs process (httpx): send one SMS, and list what was sent to a number.

A POST whose answer was lost (a timeout after the request went out) is never simply retried: Twilio
has no idempotency key, so the caller settles it against the list of messages Twilio holds
(core/texting/sender.py). Only errors where Twilio certainly created nothing (connection refused,
429, 5xx) are worth a retry, by the caller's queue.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Optional

import httpx

from core.phones import mask_phone

log = logging.getLogger(__name__)
UNSUBSCRIBED = 21610  # "Attempt to send to unsubscribed recipient"
DEFAULT_BASE = "https://api.twilio.com"


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent | unsubscribed | rejected (4xx: never sent) | retry (certainly not sent) | unknown
    sid: str = ""
    reason: str = ""


class TwilioRest:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, base_url: str = "",
                 status_callback: str = "", timeout: float = 10.0) -> None:
        self.account_sid, self.from_number, self.status_callback = account_sid, from_number, status_callback
        self.base = (base_url or DEFAULT_BASE).rstrip("/")
        self._http = httpx.AsyncClient(auth=(account_sid, auth_token), timeout=timeout)

    @property
    def _messages(self) -> str:
        return f"{self.base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, to: str, body: str) -> SendResult:
        form = {"To": to, "From": self.from_number, "Body": body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        try:
            response = await self._http.post(self._messages, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing reached Twilio
            return SendResult("retry", reason=type(exc).__name__)
        except httpx.HTTPError as exc:  # it may have reached Twilio: settled against the list
            log.warning("SMS to %s: %s after the request went out: checking Twilio's record", mask_phone(to),
                        type(exc).__name__)
            return SendResult("unknown", reason=type(exc).__name__)
        if response.status_code in (200, 201):
            return SendResult("sent", sid=str(response.json().get("sid") or ""))
        code = _code(response)
        if code == UNSUBSCRIBED:
            return SendResult("unsubscribed", reason=f"Twilio code {code}")
        reason = f"HTTP {response.status_code} (Twilio code {code})"
        if response.status_code == 429 or response.status_code >= 500:
            return SendResult("retry", reason=reason)
        return SendResult("rejected", reason=reason)

    async def sent_to(self, to: str, since: float) -> list[dict[str, Any]]:
        """Messages from our number to `to` created at or after `since` (a few pages at most)."""
        day = datetime.fromtimestamp(since, timezone.utc).strftime("%Y-%m-%d")
        url: Optional[str] = self._messages
        params: Optional[dict[str, str]] = {"To": to, "From": self.from_number, "DateSent>": day, "PageSize": "100"}
        found: list[dict[str, Any]] = []
        for _ in range(5):
            if not url:
                break
            response = await self._http.get(url, params=params)
            response.raise_for_status()
            page = response.json()
            for message in page.get("messages") or []:
                if message.get("to") == to and message.get("from") == self.from_number and _created(message) >= since:
                    found.append(message)
            next_uri = page.get("next_page_uri")
            url, params = (f"{self.base}{next_uri}", None) if next_uri else (None, None)
        return found


def _code(response: httpx.Response) -> Any:
    try:
        return response.json().get("code")
    except ValueError:
        return None


def _created(message: dict[str, Any]) -> float:
    try:
        return parsedate_to_datetime(str(message.get("date_created"))).timestamp()
    except (TypeError, ValueError):
        return 0.0
