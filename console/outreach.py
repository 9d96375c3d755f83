"""The console's handle on texts the winery starts: the consent ledger and the campaigns (core/consent.py,
core/outreach.py) in the SMS database, and the audience estimate, which asks Commerce7."""
from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any, Optional
from zoneinfo import ZoneInfo

from core.commerce7.connection import make_client
from core.consent import ConsentLedger
from core.outreach import OutreachStore
from core.service_settings import ServiceSettings
from core.settings import shared_settings
from core.texting import audience
from core.texting.settings import TextingSettings

log = logging.getLogger("console")
NAME_MAX, TEXT_MAX = 100, 1500


@lru_cache(maxsize=4)
def _stores(url: str) -> tuple[OutreachStore, ConsentLedger]:
    return OutreachStore(url), ConsentLedger(url)


def stores() -> tuple[OutreachStore, ConsentLedger]:
    """The campaign store and the consent ledger of the SMS database (created on first use)."""
    return _stores(shared_settings().sms_database)


def texting() -> TextingSettings:
    return TextingSettings.from_env()


class Invalid(ValueError):
    """A field a person must correct, with the sentence to show."""


def parse_send_at(raw: Any, tz: str) -> Optional[float]:
    """null / "" -> None (now); ISO 8601 with an offset, or a local time in the winery's time zone."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise Invalid("send_at must be null or a date and time (ISO 8601, e.g. 2026-12-10T17:00)")
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("send_at must be null or a date and time (ISO 8601, e.g. 2026-12-10T17:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    stamp = when.timestamp()
    if stamp > datetime.now().timestamp() + 366 * 86400:
        raise Invalid("send_at must be within a year")
    return stamp


def check_fields(name: Any, text: Any) -> tuple[str, str]:
    if not isinstance(name, str) or not 0 < len(name.strip()) <= NAME_MAX:
        raise Invalid(f"name must be text of 1 to {NAME_MAX} characters")
    if not isinstance(text, str) or not 0 < len(text.strip()) <= TEXT_MAX:
        raise Invalid(f"text must be 1 to {TEXT_MAX} characters")
    return name.strip(), text.strip()


async def recipients_estimate(chosen: Any) -> dict[str, Any]:
    """How many opted-in numbers the audience has now (Commerce7 asked for segments other than all)."""
    _, ledger = stores()
    try:
        if chosen == "all":
            return {**await audience.estimate(chosen, ledger, None), "error": ""}
        async with make_client(ServiceSettings.from_env()) as client:
            return {**await audience.estimate(chosen, ledger, client), "error": ""}
    except Exception as exc:  # Commerce7 down: the campaign is still counted when it is sent
        log.warning("campaign estimate: %s", type(exc).__name__)
        return {"recipients": 0, "skipped": 0,
                "error": "Commerce7 could not be reached: the audience is counted when the campaign is sent."}
