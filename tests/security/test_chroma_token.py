"""Chroma is not open to the compose network (issue 22, point 11): the knowledge index is what the
assistant answers from, and anything on the network that could write to it could make the assistant
say anything. Chroma's server (chromadb 1.x, written in Rust) authenticates nobody by itself, so the
compose file puts it behind a gate that wants CHROMA_TOKEN, on a network of its own.

The Chroma side of docker-compose.yml is started here as `make cluster` starts it (scripts/cluster.py:
the `chroma run` CLI of .venv/actions, nginx with the gate's template), and reached at the CHROMA_URL
the compose file gives the action servers: a client without the token, or with a wrong one, is
refused; the assistant's own client (core/knowledge/store.py, CHROMA_TOKEN from the environment)
indexes and queries as before."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import chromadb
import pytest
import requests
from chromadb.config import Settings as ChromaSettings

from core.knowledge.store import get_collection, make_client
from core.service_settings import ServiceSettings
from scripts import cluster, compose
from scripts.healthcheck import healthy
from tests.integration.stack import ROOT, free_port

TOKEN = "c" * 24 + "-chroma-token-0123456789"
TOKEN_AUTH = "chromadb.auth.token_authn.TokenAuthClientProvider"  # the chromadb client's own token sender


def production_env() -> dict:
    env = {name: "x" * 32 for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD", "RASA_AUTH_TOKEN",
                                       "ACTION_SERVER_TOKEN", "STAFF_CHANNEL_SECRET", "VERIFICATION_SECRET")}
    env.update(PUBLIC_URL="https://chat.example.com", CONSOLE_SERVER_NAME="console.chat.example.com",
               CHROMA_TOKEN=TOKEN)
    return env


def chroma_chain(services: dict, url: str) -> list[str]:
    """The services a request to `url` goes through: the one it names, then what that one waits for."""
    first = urlsplit(url).hostname
    chain, todo = [], [first]
    while todo:
        name = todo.pop(0)
        if name in chain or name not in services:
            continue
        chain.append(name)
        todo += [d for d in compose.dependencies(services[name]) if cluster.image_kind(services[d]) in ("chroma", "nginx")]
    return list(reversed(chain))


@pytest.fixture(scope="module")
def knowledge_server(tmp_path_factory):
    """(the action servers' CHROMA_URL here, their CHROMA_TOKEN)."""
    data = tmp_path_factory.mktemp("chroma-cluster")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cluster, "DATA_DIR", data)
        patch.setattr(cluster, "RUN_DIR", data / "run")
        patch.setenv("CHROMA_PORT", str(free_port()))
        patch.delenv("COMPOSE_PROFILES", raising=False)
        for variable, local_url, *_ in cluster.EXTERNAL.values():  # stores this test never reaches
            patch.setenv(variable, local_url)
        running = cluster.Cluster(compose.load(ROOT / "docker-compose.yml", production_env()))
        actions = running.local["actions1"].environment()
        started = []
        try:
            chain = chroma_chain(running.services, running.services["actions1"]["environment"]["CHROMA_URL"])
            assert "chroma" in chain, chain
            for name in chain:
                service = running.process(name)
                assert service is not None, name
                service.start()
                started.append(service)
                url = running.local[name].health_url()
                deadline = time.monotonic() + 60
                while not healthy(url):
                    assert service.running() and time.monotonic() < deadline, f"{name} did not start"
                    time.sleep(0.3)
            yield actions["CHROMA_URL"], actions.get("CHROMA_TOKEN")
        finally:
            for service in reversed(started):
                service.stop()
            for service in started:
                if service.proc:
                    service.proc.wait(timeout=20)


def raw_client(url: str, token: str | None = None):
    parts = urlsplit(url)
    settings = ChromaSettings(anonymized_telemetry=False)
    if token:
        settings = ChromaSettings(anonymized_telemetry=False, chroma_client_auth_provider=TOKEN_AUTH,
                                  chroma_client_auth_credentials=token)
    return chromadb.HttpClient(host=parts.hostname, port=parts.port, settings=settings)


@pytest.mark.parametrize("token", [None, "wrong-token-of-the-right-length-0123456789"], ids=["no token", "wrong"])
def test_chroma_refuses_a_client_without_the_token(knowledge_server, token):
    url, _ = knowledge_server
    with pytest.raises(Exception) as refused:
        raw_client(url, token).list_collections()
    causes, error = [], refused.value
    while error is not None:
        causes.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    assert any("401" in c or "nauthorized" in c for c in causes), causes
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    assert requests.get(f"{url}/api/v2/heartbeat", headers=headers, timeout=10).status_code == 401
    assert requests.get(f"{url}/api/v2/heartbeat", headers={"X-Chroma-Token": TOKEN}, timeout=10).status_code == 401


def test_the_assistants_client_sends_the_token_and_works(knowledge_server, monkeypatch):
    url, token = knowledge_server
    assert token == TOKEN  # the compose file hands the action servers the operator's CHROMA_TOKEN
    monkeypatch.setenv("CHROMA_URL", url)
    monkeypatch.setenv("CHROMA_TOKEN", token)
    client = make_client(ServiceSettings.from_env())
    collection = get_collection(client, "gate-test")
    collection.upsert(ids=["dogs"], embeddings=[[1.0, 0.0, 0.0]], documents=["Dogs on a leash are welcome."],
                      metadatas=[{"f": "a"}])
    found = collection.query(query_embeddings=[[0.9, 0.1, 0.0]], n_results=1)
    assert found["documents"] == [["Dogs on a leash are welcome."]]
    client.delete_collection(collection.name)


def test_only_the_gate_shares_a_network_with_chroma():
    described = compose.load(ROOT / "docker-compose.yml", production_env())
    services, networks = described["services"], described.get("networks") or {}
    on_chroma_networks = {name for name, s in services.items()
                          if set(s.get("networks") or ["default"]) & set(services["chroma"].get("networks") or ["default"])}
    assert on_chroma_networks == {"chroma", "chroma-gate"}, on_chroma_networks
    assert all(networks[n].get("internal") for n in services["chroma"]["networks"])  # and no way out of it
    for name in ("actions1", "actions2", "jobs", "index"):
        assert services[name]["environment"]["CHROMA_TOKEN"] == TOKEN, name
