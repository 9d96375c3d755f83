from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.stack import Stack

from core.paths import ROOT
CUSTOMER_TOKEN_SECRET = "integration-customer-token-secret"
# The SMS stack's Twilio account (test_twilio_channel.py, test_fuzz_channels.py share one stack).
SID, TOKEN, NUMBER = "AC_test_0123456789abcdef", "test-auth-token-0123", "+15550001111"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before the integration tests")
    # The clock is pinned to a Friday afternoon so hours replies are predictable.
    running = Stack(tmp_path_factory.mktemp("stack"), {
        "MILEA_NOW": "2026-11-27T14:00:00-05:00",
        "CUSTOMER_TOKEN_SECRET": CUSTOMER_TOKEN_SECRET,
        "MILEA_OUTBOX_EVERY_S": "2",
    }).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api():
    """The fake Twilio REST API the SMS stack sends its replies to."""
    fake = FakeTwilioApi(SID, TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def sms_stack(api, tmp_path_factory):
    """A second assistant with the Twilio channel on, started once for every SMS test."""
    model = Path(os.environ.get("MILEA_MODEL") or ROOT / "models" / "milea.tar.gz")
    if not model.exists():
        pytest.fail("no trained model: run `make train` (make test does) before the integration tests")
    running = Stack(tmp_path_factory.mktemp("sms-stack"), {
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER,
        "TWILIO_API_BASE_URL": api.url,
        "MILEA_NOW": "2026-11-27T14:00:00-05:00",  # a Friday afternoon, like the stack fixture
    }).start()
    yield running
    running.stop()
