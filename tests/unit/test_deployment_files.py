"""The production description stays whole and in line with the code: docker-compose.yml names every
service with a restart policy, a health check and no install step at start, every variable it reads
is in .env.example, the Dockerfiles build from the official images as a non-root user, and
`make cluster`'s reading of the compose file maps every service to this machine."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scripts import cluster, compose

from core.paths import ROOT
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
RAW = yaml.safe_load(COMPOSE_TEXT)
INSTALL = re.compile(r"\b(pip3?|npm|apt-get|apt|yarn|poetry|uv)\b\s+(install|ci|add|sync)\b")


def production_env(**overrides: str) -> dict:
    """What an operator's .env holds (the secrets are placeholders)."""
    env = {name: "x" * 32 for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD", "RASA_AUTH_TOKEN",
                                       "ACTION_SERVER_TOKEN", "STAFF_CHANNEL_SECRET",
                                       "VERIFICATION_SECRET")}
    env.update(PUBLIC_URL="https://chat.example.com", C7_APP_ID="app", C7_SECRET="secret", C7_TENANT="tenant",
               CONSOLE_SERVER_NAME="console.chat.example.com", CHROMA_TOKEN="t" * 32)
    env.update(overrides)
    return env


SERVICES = compose.load(ROOT / "docker-compose.yml", production_env())["services"]


def test_the_whole_production_topology_is_described_with_official_images():
    assert {"rasa1", "rasa2", "actions1", "actions2", "jobs", "widget", "console", "migrate", "index", "chroma",
            "postgres", "redis", "rabbitmq", "proxy"} <= set(SERVICES)
    assert SERVICES["chroma"]["image"].startswith("chromadb/chroma:")
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES["rabbitmq"]["image"].startswith("rabbitmq:")
    assert SERVICES["proxy"]["image"].startswith("nginx:")
    builds = {s["build"]["dockerfile"] for s in SERVICES.values() if "build" in s}
    assert builds == {"deploy/docker/rasa.Dockerfile", "deploy/docker/actions.Dockerfile"}
    bases = {path: re.findall(r"^FROM (\S+)", (ROOT / path).read_text(), re.M) for path in builds}
    assert bases["deploy/docker/rasa.Dockerfile"][-1] == "rasa/rasa:3.6.21-full"
    assert bases["deploy/docker/actions.Dockerfile"][-1] == "rasa/rasa-sdk:3.6.2"


def test_every_service_has_a_restart_policy_a_health_check_and_no_install_step_at_start():
    for name, service in SERVICES.items():
        assert service.get("restart") in ("always", "unless-stopped", "on-failure"), name
        if compose.one_shot(service):
            # a one-shot step's health is its exit code: the services that need it wait for success
            waiting = [n for n, s in SERVICES.items()
                       if compose.dependencies(s).get(name) == "service_completed_successfully"]
            assert waiting, f"nothing waits for the one-shot {name}"
        else:
            test = service.get("healthcheck", {}).get("test")
            assert test and test != ["NONE"] and not service["healthcheck"].get("disable"), name
        start = " ".join(map(str, [service.get("command", ""), service.get("entrypoint", "")]))
        assert not INSTALL.search(start), f"{name} installs at start: {start}"
        assert service.get("user") not in ("root", "0"), name


def test_dockerfiles_install_at_build_time_and_run_as_a_non_root_user():
    for path in (ROOT / "deploy" / "docker").glob("*.Dockerfile"):
        text = path.read_text()
        final_stage = text.rsplit("\nFROM ", 1)[-1]
        users = re.findall(r"^USER (\S+)", final_stage, re.M)
        assert users and users[-1] not in ("root", "0"), path.name
        assert INSTALL.search(final_stage), f"{path.name} installs nothing at build time"
        for line in re.findall(r"^(?:CMD|ENTRYPOINT) (.*)$", final_stage, re.M):
            assert not INSTALL.search(line), line
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_the_action_server_image_holds_the_texts_it_sends():
    # core/texts.py reads domain.yml from the folder above core/ (/app in the image)
    dockerfile = (ROOT / "deploy" / "docker" / "actions.Dockerfile").read_text()
    assert re.search(r"^COPY (--\S+ )*\. /app$", dockerfile, re.M)
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert not [p for p in ignored if p in ("domain.yml", "*.yml", "actions", "/domain.yml")]


def test_replicas_wait_for_the_migration_and_the_action_servers_for_the_index():
    for name in ("rasa1", "rasa2"):
        assert compose.dependencies(SERVICES[name])["migrate"] == "service_completed_successfully"
    for name in ("actions1", "actions2"):
        assert compose.dependencies(SERVICES[name])["index"] == "service_completed_successfully"
    assert SERVICES["migrate"]["command"] == ["python", "-m", "scripts.migrate"]
    assert compose.startup_order(SERVICES).index("migrate") < compose.startup_order(SERVICES).index("rasa1")


def test_every_variable_the_compose_file_reads_is_documented_in_env_example():
    read = set(re.findall(r"\$\{(\w+)", COMPOSE_TEXT))
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert not read - documented, f".env.example does not document {sorted(read - documented)}"


def test_required_secrets_are_named_when_missing():
    env = production_env()
    del env["RASA_AUTH_TOKEN"], env["POSTGRES_PASSWORD"]
    with pytest.raises(compose.ComposeError) as error:
        compose.load(ROOT / "docker-compose.yml", env)
    assert "RASA_AUTH_TOKEN" in str(error.value) and "POSTGRES_PASSWORD" in str(error.value)


def test_compose_interpolation_follows_compose_rules():
    missing: list[str] = []
    env = {"SET": "v", "EMPTY": ""}
    assert compose.interpolate("${SET} ${EMPTY:-d} ${EMPTY-d} ${UNSET:-d} $$HOME ${UNSET}", env, missing) == "v d  d $HOME "
    assert compose.interpolate("${EMPTY:?need it}${UNSET?also}", env, missing) == ""
    assert missing == ["need it", "also"]


def test_replicas_get_the_production_stores_from_the_endpoint_builder():
    from scripts.endpoints import build

    env = SERVICES["rasa1"]["environment"]
    endpoints, _ = build(env, env["ACTION_SERVER_URL"], Path("data"))
    assert endpoints["tracker_store"]["url"] == f"postgresql://milea:{'x' * 32}@postgres:5432/milea"
    assert endpoints["lock_store"]["url"] == "redis" and endpoints["lock_store"]["password"] == "x" * 32
    assert endpoints["event_broker"]["url"] == "rabbitmq" and endpoints["event_broker"]["queues"] == ["milea_events"]
    assert env["ACTION_SERVER_URL"] == "http://proxy:5055/webhook"
    assert env["ACTION_SERVER_TOKEN"] and SERVICES["actions1"]["environment"]["ACTION_SERVER_TOKEN"] == env[
        "ACTION_SERVER_TOKEN"]


def test_replicas_and_action_servers_share_the_customer_token_secret():
    """The replicas' channels exchange the website's token for a proof the action servers check."""
    services = compose.load(ROOT / "docker-compose.yml", production_env(CUSTOMER_TOKEN_SECRET="w" * 32))["services"]
    assert all(services[name]["environment"]["CUSTOMER_TOKEN_SECRET"] == "w" * 32
               for name in ("rasa1", "rasa2", "actions1", "actions2"))


def test_nginx_template_variables_are_all_provided():
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    needed = set(re.findall(r"\$\{(\w+)\}", template))
    assert needed and needed <= set(SERVICES["proxy"]["environment"]), needed - set(SERVICES["proxy"]["environment"])


def test_action_servers_get_the_variables_the_settings_read():
    settings_source = (ROOT / "actions" / "settings.py").read_text()
    read = set(re.findall(r'_env(?:_float|_or)?\("([A-Z0-9_]+)"', settings_source))
    provided = set(SERVICES["actions1"]["environment"])
    optional_local = {"KNOWLEDGE_DIR", "MILEA_WARM_ON_START", "EMBEDDINGS", "OPENAI_EMBEDDING_MODEL",
                      "ANSWER_CACHE_TTL_S", "KNOWLEDGE_RELEVANCE_THRESHOLD", "FEEDBACK_DB_URL", "OUTBOX_DB_URL",
                      "MILEA_CATALOG_TTL_S"}
    missing = read - provided - optional_local
    assert not missing, f"docker-compose.yml does not pass {sorted(missing)} to the action servers"


def test_files_the_compose_file_mounts_exist():
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_make_cluster_maps_every_service_to_this_machine(tmp_path, monkeypatch):
    """Each compose service becomes a local process (or a server already running here) with the
    compose command and environment, addresses and mounts rewritten, nothing left in-network."""
    monkeypatch.setattr(cluster, "DATA_DIR", tmp_path)
    plan = cluster.local_ports(SERVICES, {"RASA_REPLICA_PORTS": "6001 6002", "ACTION_BASE_PORT": "6011",
                                          "HTTPS_PORT": "6443", "RASA_PORT": "6080"})
    assert plan["rasa1"] == {5005: 6001} and plan["rasa2"] == {5005: 6002}
    assert plan["actions1"] == {5055: 6011} and plan["actions2"] == {5055: 6012}
    assert plan["proxy"][443] == 6443 and plan["proxy"][80] == 6080
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://postgres@127.0.0.1:5432/local")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    service_names = set(SERVICES)
    for name, service in SERVICES.items():
        if cluster.image_kind(service) == "external":
            continue
        local = cluster.Local(name, service, plan)
        words = " ".join([*local.command(), *local.environment().values(), local.health_url() or ""])
        leftovers = [w for w in re.findall(r"\b([a-z][\w-]*):\d{2,5}\b", words) if w in service_names]
        assert not leftovers, f"{name} still names {leftovers}"
        assert "/app/" not in words and " /data" not in words, name
    rasa = cluster.Local("rasa1", SERVICES["rasa1"], plan)
    assert rasa.command()[rasa.command().index("--port") + 1] == "6001"
    assert rasa.environment()["TRACKER_DB_URL"] == "postgresql://postgres@127.0.0.1:5432/local"
    assert rasa.environment()["ACTION_SERVER_URL"] == f"http://127.0.0.1:{plan['proxy'][5055]}/webhook"
    assert rasa.health_url() == "http://127.0.0.1:6001/"
    assert cluster.Local("jobs", SERVICES["jobs"], plan).environment()["JOBS_HOST"] == "127.0.0.1"
    proxy = cluster.Local("proxy", SERVICES["proxy"], plan).environment()
    assert proxy["HTTPS_LISTEN"] == "127.0.0.1:6443" and "127.0.0.1:6001" in proxy["RASA_SERVERS"]


def test_a_missing_module_is_skipped_not_fatal():
    assert cluster.module_present("scripts.serve_rasa") and cluster.module_present("rasa_sdk")
    assert not cluster.module_present("scripts.no_such_step")


def test_a_replica_writes_its_channels_from_the_environment_then_becomes_rasa_run(tmp_path, monkeypatch):
    """The compose file's Rasa command: without Twilio settings the SMS channel is left out (Rasa would
    refuse empty credentials), the ops channel is in, and the endpoints come from the environment."""
    from scripts import serve_rasa

    env = SERVICES["rasa1"]["environment"]
    for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "MILEA_MODE_ANNOUNCED"):
        monkeypatch.delenv(key, raising=False)
    for key in ("RASA_AUTH_TOKEN", "ACTION_SERVER_URL", "TRACKER_DB_URL", "REDIS_URL", "RABBITMQ_URL", "PUBLIC_URL",
                "WIDGET_ORIGINS", "STAFF_CHANNEL_SECRET"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("MILEA_ENV", "development")
    monkeypatch.setenv("MILEA_DATA_DIR", str(tmp_path))
    started = []
    monkeypatch.setattr(serve_rasa.os, "execv", lambda path, args: started.append(args))
    assert serve_rasa.main(["--port", "5005", "--model", "models/milea.tar.gz"]) == 0
    command = started[0]
    credentials = yaml.safe_load(Path(command[command.index("--credentials") + 1]).read_text())
    assert "channels.rest.SafeRestInput" in credentials and "channels.ops.OpsInput" in credentials
    assert not any("twilio" in name.lower() for name in credentials)
    endpoints = yaml.safe_load(Path(command[command.index("--endpoints") + 1]).read_text())
    assert endpoints["action_endpoint"]["url"] == "http://proxy:5055/webhook"
    assert endpoints["tracker_store"]["url"].startswith("postgresql://milea:")
    assert "--auth-token" not in command and not any("x" * 32 in arg for arg in command)  # RASA_AUTH_TOKEN only
    assert "https://chat.example.com" in command[command.index("--cors"):]
    assert command[1:4] == ["-m", "scripts.rasa_server", "run"]
