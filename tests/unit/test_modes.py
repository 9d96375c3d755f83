"""MILEA_ENV=production refuses what would hurt customers and names the variable to set; development
says loudly that signups go to the demo store; .env never overrides the real environment. Checked
through the commands an operator runs (make run's and make cluster's entry points, a Rasa replica)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import modes

from core.paths import ROOT
GOOD = {"MILEA_ENV": "production", "C7_APP_ID": "app", "C7_SECRET": "secret", "C7_TENANT": "milea",
        "RASA_AUTH_TOKEN": "r" * 32, "ACTION_SERVER_TOKEN": "a" * 32, "PUBLIC_URL": "https://chat.example.com",
        "WIDGET_ORIGINS": "https://example.com", "STAFF_CHANNEL_SECRET": "s" * 32, "VERIFICATION_SECRET": "v" * 32}
KEPT_OUT = ("C7_APP_ID", "C7_SECRET", "C7_TENANT", "C7_API_URL", "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN",
            "STAFF_CHANNEL_SECRET", "VERIFICATION_SECRET", "CUSTOMER_TOKEN_SECRET",
            "PUBLIC_URL", "WIDGET_ORIGINS", "HTTP_REDIRECT", "TWILIO_WEBHOOK_URL", "COMPOSE_PROFILES", "MILEA_ENV",
            "CONSOLE_SERVER_NAME", "CHROMA_URL", "CHROMA_TOKEN")


def start(module_args: list[str], env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in KEPT_OUT}
    full = {**base, "MILEA_DATA_DIR": str(tmp_path), "MILEA_ENV_FILE": os.devnull, **env}
    return subprocess.run([sys.executable, "-m", *module_args], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=120)


def test_a_complete_production_environment_passes():
    assert modes.production_problems(GOOD) == []


@pytest.mark.parametrize("change, variable", [
    ({"C7_APP_ID": ""}, "C7_APP_ID"),
    ({"C7_API_URL": "http://commerce7-demo:7070/v1"}, "C7_API_URL"),
    ({"RASA_AUTH_TOKEN": ""}, "RASA_AUTH_TOKEN"),
    ({"RASA_AUTH_TOKEN": "short"}, "RASA_AUTH_TOKEN"),
    ({"RASA_AUTH_TOKEN": "r" * 31}, "RASA_AUTH_TOKEN"),
    ({"STAFF_CHANNEL_SECRET": ""}, "STAFF_CHANNEL_SECRET"),
    ({"STAFF_CHANNEL_SECRET": "staff-secret-2026"}, "STAFF_CHANNEL_SECRET"),
    ({"VERIFICATION_SECRET": "s3cret"}, "VERIFICATION_SECRET"),
    ({"CUSTOMER_TOKEN_SECRET": "shop"}, "CUSTOMER_TOKEN_SECRET"),
    ({"ACTION_SERVER_TOKEN": ""}, "ACTION_SERVER_TOKEN"),
    ({"PUBLIC_URL": "http://chat.example.com"}, "PUBLIC_URL"),
    ({"TWILIO_WEBHOOK_URL": "http://chat.example.com/webhooks/twilio/webhook"}, "TWILIO_WEBHOOK_URL"),
    ({"WIDGET_ORIGINS": "https://a.example http://b.example"}, "WIDGET_ORIGINS"),
    ({"HTTP_REDIRECT": "0"}, "HTTP_REDIRECT"),
    ({"CONSOLE_SERVER_NAME": "Chat.Example.com"}, "CONSOLE_SERVER_NAME"),  # the console on the public host
    ({"CHROMA_URL": "http://chroma-gate:8000"}, "CHROMA_TOKEN"),  # a Chroma server without the token
    ({"CHROMA_URL": "http://chroma-gate:8000", "CHROMA_TOKEN": "k" * 31}, "CHROMA_TOKEN"),
    ({"CHROMA_URL": "http://chroma-gate:8000", "CHROMA_TOKEN": 'k' * 32 + '"; return 200; #'}, "CHROMA_TOKEN"),
])
def test_each_unsafe_setting_is_refused_naming_its_variable(change, variable):
    problems = modes.production_problems({**GOOD, **change})
    assert len(problems) == 1 and variable in problems[0], problems


def test_make_run_refuses_production_with_the_demo_store_and_a_generated_token(tmp_path):
    result = start(["scripts.modes", "--then", "scripts.run"], {"MILEA_ENV": "production"}, tmp_path)
    assert result.returncode == 2
    for variable in ("C7_APP_ID", "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "PUBLIC_URL"):
        assert variable in result.stdout, result.stdout
    assert not (tmp_path / "rasa_auth_token").exists()  # nothing was started, no token made up


def test_make_cluster_refuses_production_without_a_certificate(tmp_path):
    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.skip("make cluster checks for a trained model first")
    result = start(["scripts.cluster"], {**GOOD, "TLS_CERT_DIR": str(tmp_path / "none")}, tmp_path)
    assert result.returncode == 2 and "TLS_CERT_DIR" in result.stdout, result.stdout
    result = start(["scripts.cluster"], {"MILEA_ENV": "production"}, tmp_path)
    assert result.returncode == 2 and "C7_APP_ID" in result.stdout and "RASA_AUTH_TOKEN" in result.stdout


def test_a_rasa_replica_refuses_production_over_plain_http(tmp_path):
    result = start(["scripts.serve_rasa", "--model", "models/milea.tar.gz"],
                   {**GOOD, "PUBLIC_URL": "http://chat.example.com"}, tmp_path)
    assert result.returncode == 2 and "PUBLIC_URL" in result.stdout


def test_weak_internal_secrets_are_refused_where_they_are_held(tmp_path):
    """A staff or internal secret under 32 characters can be guessed: the process holding it refuses."""
    replica = start(["scripts.serve_rasa", "--model", "models/milea.tar.gz"],
                    {**GOOD, "STAFF_CHANNEL_SECRET": "winery2026"}, tmp_path)
    assert replica.returncode == 2 and "STAFF_CHANNEL_SECRET" in replica.stdout, replica.stdout
    actions = start(["scripts.modes", "--checks", "commerce7", "--then", "rasa_sdk", "--actions", "actions"],
                    {**GOOD, "VERIFICATION_SECRET": "winery2026"}, tmp_path)
    assert actions.returncode == 2 and "VERIFICATION_SECRET" in actions.stdout, actions.stdout


def test_an_action_server_refuses_production_with_the_demo_store(tmp_path):
    result = start(["scripts.modes", "--checks", "commerce7", "--then", "rasa_sdk", "--actions", "actions"],
                   {"MILEA_ENV": "production"}, tmp_path)
    assert result.returncode == 2 and "demo emulator" in result.stdout and "C7_TENANT" in result.stdout


def test_development_says_loudly_that_signups_go_to_the_demo_store(tmp_path, capsys):
    assert modes.check({"MILEA_ENV": "development"})
    out = capsys.readouterr().out
    assert "DEMO MODE" in out and "NOT the winery's Commerce7" in out


def test_dotenv_fills_in_but_never_overrides_the_environment(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nexport A=from-file\nB='quoted # value'\nC=plain # note\n\nD=\n")
    environ = {"A": "from-environment"}
    assert modes.load_dotenv(env_file, environ) == ["B", "C", "D"]
    assert environ == {"A": "from-environment", "B": "quoted # value", "C": "plain", "D": ""}
    env_file.write_text("not a setting\n")
    with pytest.raises(SystemExit):
        modes.load_dotenv(env_file, {})
