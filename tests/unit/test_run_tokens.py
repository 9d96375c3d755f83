"""The secrets `make run` and `make cluster` hand out: taken from the environment, else generated
once, kept in the data folder readable by the owner only, and reused on the next start."""
from __future__ import annotations

import stat

from scripts import run


def test_the_action_server_token_is_generated_once_kept_private_and_shared_with_the_children(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "DATA_DIR", tmp_path)
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    first = run.action_token()
    kept = tmp_path / "action_server_token"
    assert len(first) >= 32 and kept.read_text() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert run.os.environ["ACTION_SERVER_TOKEN"] == first  # the endpoints file and every service see it
    monkeypatch.delenv("ACTION_SERVER_TOKEN")
    assert run.action_token() == first  # the next start reuses it


def test_a_token_from_the_environment_wins_and_is_not_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "DATA_DIR", tmp_path)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "chosen-by-the-operator")
    assert run.action_token() == "chosen-by-the-operator"
    assert not (tmp_path / "action_server_token").exists()
    assert "chosen-by-the-operator" not in capsys.readouterr().out


def test_the_action_server_command_is_the_token_checking_entry_point():
    assert run.action_server(5061)[1:] == ["-m", "scripts.action_server", "--actions", "actions", "--port", "5061"]


def test_a_generated_rasa_token_is_kept_private_and_never_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "DATA_DIR", tmp_path)
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    token = run.auth_token()
    kept = tmp_path / "rasa_auth_token"
    assert len(token) >= 32 and kept.read_text() == token and stat.S_IMODE(kept.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert token not in out and str(kept) in out  # says where it is, not what it is
