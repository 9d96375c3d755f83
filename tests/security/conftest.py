"""The attacker's view: one assistant started the way `make run` starts it (tests/integration/stack.py),
with SMS on (a fake Twilio REST API receives what it sends) and the SMS countries of a winery that
also serves the Seychelles, so that a Seychelles number reaches the assistant and phone matching is
what must tell it apart from a US number. The website signs customer tokens (CUSTOMER_TOKEN_SECRET)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.conftest import CUSTOMER_TOKEN_SECRET, NUMBER, SID, TOKEN
from tests.integration.stack import ROOT, Stack

ALLOWED_COUNTRIES = "US,CA,SC"


@pytest.fixture(scope="session")
def twilio():
    fake = FakeTwilioApi(SID, TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def target(twilio, tmp_path_factory):
    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before the security tests")
    running = Stack(tmp_path_factory.mktemp("security-stack"), {
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER,
        "TWILIO_API_BASE_URL": twilio.url, "SMS_ALLOWED_COUNTRIES": ALLOWED_COUNTRIES,
        "MILEA_NOW": "2026-11-27T14:00:00-05:00", "CUSTOMER_TOKEN_SECRET": CUSTOMER_TOKEN_SECRET,
    }).start()
    running.staff_secret = (Path(running.env["MILEA_DATA_DIR"]) / "staff_channel_secret").read_text().strip()
    yield running
    running.stop()
