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


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, llm):
    require("PostgreSQL", "Redis", "RabbitMQ")
    from tests.integration.conftest import ROOT

    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before the production tests")
    running = Cluster(tmp_path_factory.mktemp("cluster"), {
        "MILEA_NOW": "2026-11-27T14:00:00-05:00",
        "OPENAI_BASE_URL": llm.url, "OPENAI_API_KEY": "test-key", "LLM_TIMEOUT_S": "1.5",
        "C7_TIMEOUT_S": "1.5",
    })
    try:
        yield running.start()
    finally:
        running.stop()
