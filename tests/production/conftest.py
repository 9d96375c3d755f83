from __future__ import annotations

import pytest

from tests.production.cluster import Cluster
from tests.production.services import POSTGRES_URL, RABBITMQ_URL, require



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
        _drop(running)


def _drop(cluster: Cluster) -> None:
    """The test database and queue go with the cluster."""
    import pika
    import psycopg2

    db = psycopg2.connect(POSTGRES_URL, connect_timeout=5)
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{cluster.database}" WITH (FORCE)')
    db.close()
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    connection.channel().queue_delete(cluster.queue)
    connection.close()
