"""The action server answers only the Rasa server (issue 10, attack 2).

A forged action call (a tracker claiming the Twilio channel and a customer's phone) would
run action_check_points and answer with that customer's balance, so every call needs
ACTION_SERVER_TOKEN: without it, or with a wrong one, 401 and nothing runs (the Commerce7
emulator sees no request); with it, the call works. The server listens on loopback.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.integration.stack import ROOT, deployment_env, free_port

TOKEN = "action-server-test-token-0123456789"
CUSTOMER_PHONE = "+15551234567"  # a demo customer with Milea Miles points


def _wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not up in {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(action server URL, Commerce7 emulator URL), both real processes on free ports."""
    data = tmp_path_factory.mktemp("action-auth")
    c7_port, action_port = free_port(), free_port()
    env = deployment_env({"MILEA_DATA_DIR": str(data), "C7_API_URL": f"http://127.0.0.1:{c7_port}/v1",
                          "PYTHONPATH": str(ROOT), "ACTION_SERVER_TOKEN": TOKEN})
    env.pop("ACTION_HOST", None)
    procs = [_start(["-m", "commerce7_demo.emulator", "--port", str(c7_port),
                     "--data-file", str(data / "c7.json")], env, data / "c7.log")]
    procs.append(_start(["-m", "scripts.action_server", "--actions", "actions", "--port", str(action_port)], env,
                        data / "actions.log"))
    try:
        _wait_for(f"http://127.0.0.1:{c7_port}/__admin/faults", procs[0], data / "c7.log")
        _wait_for(f"http://127.0.0.1:{action_port}/health", procs[1], data / "actions.log")
        yield f"http://127.0.0.1:{action_port}", f"http://127.0.0.1:{c7_port}", action_port
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)


def forged_call(action: str = "action_check_points") -> dict:
    """What an attacker posts: a tracker that claims an SMS from the customer's phone."""
    user = {"event": "user", "timestamp": time.time(), "text": "how many points do I have?",
            "input_channel": "twilio", "parse_data": {"intent": {"name": "check_points", "confidence": 1.0},
                                                       "entities": []}}
    return {"next_action": action, "sender_id": CUSTOMER_PHONE, "version": "3.6.2", "domain": {},
            "tracker": {"sender_id": CUSTOMER_PHONE, "slots": {}, "latest_message": user | {"metadata": {}},
                        "events": [user], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen", "latest_input_channel": "twilio"}}


def c7_requests(c7_url: str) -> int:
    return len(requests.get(f"{c7_url}/__admin/requests", timeout=5).json()["requests"])


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"},
                                     {"token": TOKEN}],
                         ids=["none", "wrong", "no-scheme", "basic", "longer", "other-header"])
def test_a_forged_call_without_the_token_gets_401_and_runs_nothing(servers, headers):
    actions_url, c7_url, _ = servers
    before = c7_requests(c7_url)
    response = requests.post(f"{actions_url}/webhook", json=forged_call(), headers=headers, timeout=10)
    assert response.status_code == 401
    assert "points" not in response.text.lower() and "miles" not in response.text.lower()
    assert c7_requests(c7_url) == before  # the action did not even look the customer up
    # Rasa's token query parameter is not accepted either: only the header Rasa is configured to send.
    assert requests.post(f"{actions_url}/webhook", params={"token": TOKEN}, json=forged_call(),
                         timeout=10).status_code == 401


def test_the_action_list_is_closed_and_health_reveals_nothing(servers):
    actions_url, _, _ = servers
    assert requests.get(f"{actions_url}/actions", timeout=10).status_code == 401
    health = requests.get(f"{actions_url}/health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_the_call_with_the_token_runs_the_action(servers):
    actions_url, c7_url, _ = servers
    before = c7_requests(c7_url)
    response = requests.post(f"{actions_url}/webhook", json=forged_call(),
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code == 200
    [balance] = response.json()["responses"]   # the balance, by name: Rasa words it for a verified SMS
    assert balance["response"] in ("utter_points_balance", "utter_points_balance_tier"), balance
    assert re.fullmatch(r"[\d,]+", balance["points"]), balance
    assert c7_requests(c7_url) > before
    listed = requests.get(f"{actions_url}/actions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert {"name": "action_check_points"} in listed.json()


def test_it_listens_on_loopback_only(servers):
    *_, port = servers
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, _, port_hex = local.rpartition(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                listening.add(address)
    assert listening == {"0100007F"}, listening  # 127.0.0.1, nothing on 0.0.0.0 or ::


def test_it_refuses_to_start_without_a_token(tmp_path):
    env = deployment_env({"MILEA_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)})
    env.pop("ACTION_SERVER_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "scripts.action_server", "--actions", "actions", "--port",
                           str(free_port())], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "ACTION_SERVER_TOKEN" in done.stderr
