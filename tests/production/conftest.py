from __future__ import annotations

import pytest

from tests.production.cluster import Cluster
from tests.production.services import require


@pytest.fixture(scope="session")
def llm():
    """The fake OpenAI-compatible server the cluster phrases answers with (offline path on its faults)."""
    from tests.fakes.openai_server import FakeOpenAIServer

    server = FakeOpenAIServer().start()
    yield server
    server.stop()


CUSTOMER_TOKEN_SECRET = "cluster-customer-token-secret"
SMS_SID, SMS_TOKEN, SMS_NUMBER = "AC_cluster_0123456789abcdef", "cluster-auth-token-0123", "+15550002222"


@pytest.fixture(scope="session")
def twilio_api():
    """The fake Twilio REST API the cluster's SMS replies go to."""
    from tests.fakes.twilio_api import FakeTwilioApi

    fake = FakeTwilioApi(SMS_SID, SMS_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, llm, twilio_api):
    require("PostgreSQL", "Redis", "RabbitMQ")
    from tests.integration.conftest import ROOT

    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before the production tests")
    running = Cluster(tmp_path_factory.mktemp("cluster"), {
        "MILEA_NOW": "2026-11-27T14:00:00-05:00",
        "OPENAI_BASE_URL": llm.url, "OPENAI_API_KEY": "test-key", "LLM_TIMEOUT_S": "1.5",
        "C7_TIMEOUT_S": "1.5",
        "TWILIO_ACCOUNT_SID": SMS_SID, "TWILIO_AUTH_TOKEN": SMS_TOKEN, "TWILIO_NUMBER": SMS_NUMBER,
        "TWILIO_API_BASE_URL": twilio_api.url,
        "CUSTOMER_TOKEN_SECRET": CUSTOMER_TOKEN_SECRET,  # the website's customer tokens (test_customer_tokens.py)
    })
    try:
        yield running.start()
    finally:
        running.stop()
