"""The production description stays in line with the code: docker-compose.yml
is valid, names every service and every variable the code reads for them."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_every_service_with_official_images():
    services = COMPOSE["services"]
    assert {"rasa-1", "rasa-2", "actions", "chroma", "postgres", "redis", "rabbitmq", "nginx"} <= set(services)
    assert services["rasa-1"]["image"] == "rasa/rasa:3.6.21-full"
    assert services["actions"]["image"] == "rasa/rasa-sdk:3.6.2"
    assert services["chroma"]["image"].startswith("chromadb/chroma")
    for name in ("postgres", "redis", "rabbitmq", "rasa-1", "rasa-2"):
        assert "healthcheck" in services[name], name


def test_files_the_compose_file_mounts_exist():
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    command = " ".join(COMPOSE["services"]["rasa-1"]["command"])
    for path in re.findall(r"/app/([\w./-]+\.yml)", command):
        assert (ROOT / path).exists(), path


def test_rasa_replicas_get_the_production_stores_from_the_endpoint_builder():
    from scripts.endpoints import build

    env = {k: str(v) for k, v in COMPOSE["services"]["rasa-1"]["environment"].items()}
    env = {k: re.sub(r"\$\{(\w+):\?[^}]*\}", "secret", v) for k, v in env.items()}
    endpoints, _ = build(env, env["ACTION_SERVER_URL"], Path("/tmp"))
    assert endpoints["tracker_store"]["url"] == "postgresql://milea:secret@postgres:5432/milea"
    assert endpoints["lock_store"] == {"type": "stores.redis_lock_store.AtomicRedisLockStore", "url": "redis", "port": 6379, "db": 0, "key_prefix": "milea",
                                       "use_ssl": False}
    assert endpoints["event_broker"]["url"] == "rabbitmq" and endpoints["event_broker"]["queues"] == ["milea_events"]
    assert "scripts.endpoints" in COMPOSE["services"]["rasa-1"]["command"][0]


def test_nginx_template_variables_are_all_provided():
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    needed = set(re.findall(r"\$\{(\w+)\}", template))
    assert needed and needed <= set(COMPOSE["services"]["nginx"]["environment"]), needed


def test_action_server_gets_the_variables_the_settings_read():
    settings_source = (ROOT / "actions" / "settings.py").read_text()
    read = set(re.findall(r'_env(?:_float)?\("([A-Z0-9_]+)"', settings_source))
    provided = set(COMPOSE["services"]["actions"]["environment"])
    optional_local = {"KNOWLEDGE_DIR", "MILEA_DATA_DIR", "MILEA_WARM_ON_START", "EMBEDDINGS", "OPENAI_EMBEDDING_MODEL",
                      "LLM_TIMEOUT_S", "ANSWER_CACHE_TTL_S", "KNOWLEDGE_RELEVANCE_THRESHOLD", "C7_API_URL",
                      "C7_TIMEOUT_S"}
    missing = read - provided - optional_local
    assert not missing, f"docker-compose.yml does not pass {sorted(missing)} to the action server"
