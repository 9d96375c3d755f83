"""Quiet hours and the texting settings read from the environment."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.texting.quiet import QuietHours
from core.texting.settings import TextingSettings

NY = ZoneInfo("America/New_York")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 8, hour, minute, tzinfo=NY)


def test_default_quiet_hours_run_over_midnight_in_new_york():
    quiet = QuietHours.parse("21-9")
    assert quiet.quiet(at(21)) and quiet.quiet(at(23, 59)) and quiet.quiet(at(3)) and quiet.quiet(at(8, 59))
    assert not quiet.quiet(at(9)) and not quiet.quiet(at(14)) and not quiet.quiet(at(20, 59))
    assert quiet.ends(at(22)) == datetime(2026, 12, 9, 9, 0, tzinfo=NY)
    assert quiet.ends(at(2)) == datetime(2026, 12, 8, 9, 0, tzinfo=NY)
    assert quiet.ends(at(12)) is None
    # the same wall-clock hours seen from UTC: 02:30 UTC is 21:30 in New York in December
    assert quiet.quiet(datetime(2026, 12, 9, 2, 30, tzinfo=ZoneInfo("UTC")))


def test_quiet_hours_within_a_day_off_and_bad_values():
    lunch = QuietHours.parse("12:30-13:15")
    assert lunch.quiet(at(12, 45)) and not lunch.quiet(at(13, 15)) and not lunch.quiet(at(12, 29))
    assert QuietHours.parse("off").off and not QuietHours.parse("off").quiet(at(23))
    for bad in ("9pm-9am", "25-3", "21-9-3", "21:75-9"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


def test_settings_from_the_environment():
    settings = TextingSettings.from_env({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_NUMBER": "+1",
                                         "PUBLIC_URL": "https://chat.example.com/", "CAMPAIGN_RATE_PER_S": "3"})
    assert settings.enabled and settings.rate_per_s == 3 and settings.weekly_cap == 2
    assert settings.status_callback_url == "https://chat.example.com/webhooks/twilio/status"
    assert settings.quiet.label() == "21:00-09:00 America/New_York"
    assert not TextingSettings.from_env({}).enabled
    for bad in ({"CAMPAIGN_RATE_PER_S": "0"}, {"CAMPAIGN_RATE_PER_S": "fast"}, {"CAMPAIGN_QUIET_HOURS": "nights"}):
        with pytest.raises(ValueError):
            TextingSettings.from_env(bad)
