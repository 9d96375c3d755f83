"""The time every process answers for: the real clock, or the one MILEA_NOW pins."""
from __future__ import annotations

from datetime import datetime, timezone

from core.settings import shared_settings


def system_clock() -> datetime:
    # MILEA_NOW pins the clock (ISO 8601 with offset) for demos and end-to-end tests.
    pinned = shared_settings().pinned_now
    return datetime.fromisoformat(pinned) if pinned else datetime.now(timezone.utc)
