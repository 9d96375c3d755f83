"""Quiet hours: no text the winery starts goes out between them, in the winery's time zone.

CAMPAIGN_QUIET_HOURS is "21-9" (9 PM to 9 AM, the default), "22:30-8", or "off". MILEA_NOW pins the
clock (demos and tests), as for the opening hours.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

_SPEC = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


def now_in(tz: ZoneInfo) -> datetime:
    """Now in `tz`, or MILEA_NOW when set (ISO 8601 with offset)."""
    pinned = (os.environ.get("MILEA_NOW") or "").strip()
    if pinned:
        return datetime.fromisoformat(pinned).astimezone(tz)
    return datetime.now(tz)


@dataclass(frozen=True)
class QuietHours:
    start: Optional[time]  # None: off
    end: Optional[time]
    tz: ZoneInfo

    @classmethod
    def parse(cls, spec: str, tz: str = "America/New_York") -> "QuietHours":
        zone = ZoneInfo(tz)
        if spec.strip().lower() in ("off", "none", "0", ""):
            return cls(None, None, zone)
        match = _SPEC.match(spec)
        if not match:
            raise ValueError(f"CAMPAIGN_QUIET_HOURS must look like 21-9 or 22:30-8:00, or be off; got {spec!r}")
        h1, m1, h2, m2 = (int(g or 0) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"CAMPAIGN_QUIET_HOURS: {spec!r} is not a time of day range")
        return cls(time(h1, m1), time(h2, m2), zone)

    @property
    def off(self) -> bool:
        return self.start is None or self.start == self.end

    def label(self) -> str:
        if self.off or self.start is None or self.end is None:
            return "off"
        return f"{self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')} {self.tz.key}"

    def quiet(self, at: Optional[datetime] = None) -> bool:
        if self.off or self.start is None or self.end is None:
            return False
        local = (at or now_in(self.tz)).astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # over midnight

    def ends(self, at: Optional[datetime] = None) -> Optional[datetime]:
        """When the quiet hours `at` is in end (None when not quiet)."""
        at = (at or now_in(self.tz)).astimezone(self.tz)
        if not self.quiet(at) or self.end is None:
            return None
        end = datetime.combine(at.date(), self.end, tzinfo=self.tz)
        return end if end > at else datetime.combine(at.date() + timedelta(days=1), self.end, tzinfo=self.tz)
