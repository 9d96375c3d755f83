"""The settings of texts the winery starts, from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from core.texting.quiet import QuietHours


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class TextingSettings:
    account_sid: str  # TWILIO_ACCOUNT_SID
    auth_token: str  # TWILIO_AUTH_TOKEN
    from_number: str  # TWILIO_NUMBER
    api_base_url: str  # TWILIO_API_BASE_URL ("" for https://api.twilio.com)
    status_callback_url: str  # TWILIO_STATUS_CALLBACK_URL, else PUBLIC_URL + /webhooks/twilio/status ("" none)
    rate_per_s: float  # CAMPAIGN_RATE_PER_S: messages a second (Twilio's limit per sender; 1 for a long code)
    quiet: QuietHours  # CAMPAIGN_QUIET_HOURS ("21-9" default, "off") in WINERY_TZ
    weekly_cap: int  # CAMPAIGN_WEEKLY_CAP: campaign texts per number in any 7 days (0: no cap)
    cost_per_segment: float  # SMS_COST_PER_SEGMENT (USD) for the console's estimate
    every_s: float  # TEXTING_EVERY_S: how often the jobs process looks for due campaigns and events

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.from_number)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "TextingSettings":
        env = os.environ if env is None else env
        public = (env.get("PUBLIC_URL") or "").strip().rstrip("/")
        callback = (env.get("TWILIO_STATUS_CALLBACK_URL") or "").strip() or (
            f"{public}/webhooks/twilio/status" if public else "")
        rate = _float(env, "CAMPAIGN_RATE_PER_S", 1.0)
        if rate <= 0:
            raise ValueError("CAMPAIGN_RATE_PER_S must be above 0")
        return cls(
            account_sid=(env.get("TWILIO_ACCOUNT_SID") or "").strip(),
            auth_token=(env.get("TWILIO_AUTH_TOKEN") or "").strip(),
            from_number=(env.get("TWILIO_NUMBER") or "").strip(),
            api_base_url=(env.get("TWILIO_API_BASE_URL") or "").strip().rstrip("/"),
            status_callback_url=callback,
            rate_per_s=rate,
            quiet=QuietHours.parse(env.get("CAMPAIGN_QUIET_HOURS") or "21-9",
                                   (env.get("WINERY_TZ") or "America/New_York").strip()),
            weekly_cap=int(_float(env, "CAMPAIGN_WEEKLY_CAP", 2)),
            cost_per_segment=_float(env, "SMS_COST_PER_SEGMENT", 0.0083),
            every_s=_float(env, "TEXTING_EVERY_S", 2.0),
        )
