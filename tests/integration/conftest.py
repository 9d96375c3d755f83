from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER_TOKEN_SECRET = "integration-customer-token-secret"


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
