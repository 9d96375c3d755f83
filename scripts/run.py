"""`make run`: start every process of the assistant in the foreground; Ctrl-C stops all.

Processes: the Commerce7 demo emulator (when no Commerce7 credentials are set and
the emulator is present), the action server, the Rasa server (REST + socket.io,
optional Twilio), and the widget page. Each service says in one line at start-up
which mode it runs in and how to switch.
"""
from __future__ import annotations

import os
import secrets
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

import yaml

from channels.origins import widget_origins
from scripts.processes import Service, Stopping, stop_services, supervise
from core.paths import ROOT

RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
ACTIONS_PY = Path(sys.executable)


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


RASA_PORT = _port("RASA_PORT", 5005)
ACTION_PORT = _port("ACTION_PORT", 5055)
WIDGET_PORT = _port("WIDGET_PORT", 8080)
DATA_DIR = Path(os.environ.get("MILEA_DATA_DIR") or ROOT / ".data").resolve()
RUN_DIR = DATA_DIR / "run"
MODEL = Path(os.environ.get("MILEA_MODEL") or ROOT / "models" / "milea.tar.gz")


# Rasa's telemetry and its error reports (Sentry) would call out of this machine: off.
RASA_OFFLINE = {"RASA_TELEMETRY_ENABLED": "false"}
# Third-party start-up noise the servers' own filters cannot reach (core/quiet.py has the rest):
# TensorFlow's C++ log below errors, SQLAlchemy's one "2.0 migration" notice. MILEA_WARNINGS=all keeps both.
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def quiet_env() -> dict[str, str]:
    """QUIET, less what the environment sets itself; nothing when MILEA_WARNINGS=all."""
    from core.settings import shared_settings

    if shared_settings().show_all_warnings:
        return {}
    return {name: value for name, value in QUIET.items() if name not in os.environ}


def say(line: str) -> None:
    print(f"[milea] {line}", flush=True)


def _secret(variable: str, file_name: str, what: str) -> str:
    """The variable's value, or one generated once and kept in the data folder (0600). A generated
    one is never printed (terminal scrollback and supervisor logs keep it): the line says where it is."""
    token = os.environ.get(variable, "").strip()
    if token:
        say(f"{what}: protected by {variable}")
        return token
    path = DATA_DIR / file_name
    if path.exists():
        say(f"{what}: protected by the token in {path} (set {variable} to choose one)")
        return path.read_text().strip()
    token = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(token)
    say(f"{what}: generated a token, kept in {path} (set {variable} to choose one)")
    return token


def auth_token() -> str:
    """RASA_AUTH_TOKEN, or one generated once and kept in the data folder."""
    return _secret("RASA_AUTH_TOKEN", "rasa_auth_token", "Rasa HTTP API")


def action_token() -> str:
    """ACTION_SERVER_TOKEN (the secret Rasa sends to the action servers), set in this environment
    for the endpoints file and every child; generated once and kept in the data folder when unset."""
    token = _secret("ACTION_SERVER_TOKEN", "action_server_token", "Action server")
    os.environ["ACTION_SERVER_TOKEN"] = token
    return token


def action_server(port: int) -> list[str]:
    """The command of one action server (rasa-sdk behind the token check, on ACTION_HOST)."""
    return [str(ACTIONS_PY), "-m", "scripts.action_server", "--actions", "actions", "--port", str(port)]


def twilio_enabled() -> bool:
    keys = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER")
    present = [k for k in keys if os.environ.get(k)]
    if len(present) == len(keys):
        signed = os.environ.get("TWILIO_WEBHOOK_URL") or "the request URL (set TWILIO_WEBHOOK_URL behind a proxy)"
        say(f"SMS: Twilio channel on, number {os.environ['TWILIO_NUMBER']}, webhook /webhooks/twilio/webhook, "
            f"signatures checked against {signed}")
        return True
    if present:
        say(f"SMS: off - {', '.join(k for k in keys if k not in present)} missing")
    else:
        say("SMS: off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER to enable)")
    return False


def commerce7_webhooks_enabled() -> bool:
    """POST /webhooks/commerce7 is served when its Basic auth is set (the demo emulator gets one generated)."""
    if os.environ.get("C7_WEBHOOK_USER") and os.environ.get("C7_WEBHOOK_PASSWORD"):
        say("Commerce7 web hooks: on, POST /webhooks/commerce7 (HTTP Basic auth C7_WEBHOOK_USER)")
        return True
    say("Commerce7 web hooks: off (set C7_WEBHOOK_USER and C7_WEBHOOK_PASSWORD, and the same on the hooks in "
        "Commerce7)")
    return False


def staff_secret() -> str:
    """STAFF_CHANNEL_SECRET (console -> Rasa staff replies), or one generated once and kept in the data folder."""
    secret = os.environ.get("STAFF_CHANNEL_SECRET", "").strip()
    path = DATA_DIR / "staff_channel_secret"
    if not secret:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        secret = path.read_text().strip()
    os.environ["STAFF_CHANNEL_SECRET"] = secret  # the console inherits it
    return secret


def write_credentials() -> Path:
    creds = yaml.safe_load((ROOT / "credentials.yml").read_text())
    enabled = twilio_enabled()
    if "channels.staff.StaffInput" in creds:
        creds["channels.staff.StaffInput"] = {"secret": staff_secret()}

    def unset_env_ref(value: object) -> bool:  # "${VAR}" with VAR unset or empty: Rasa would fail on it
        text = value.strip() if isinstance(value, str) else ""
        return text.startswith("${") and text.endswith("}") and not os.environ.get(text[2:-1])

    for section in ("twilio", "channels.twilio.SafeTwilioInput"):
        if section not in creds:
            continue
        if not enabled:
            creds.pop(section)
        elif isinstance(creds[section], dict):
            # the required keys are set (twilio_enabled); optional ones left unset are dropped
            creds[section] = {k: v for k, v in creds[section].items() if not unset_env_ref(v)}
    hooks = "channels.commerce7_hooks.Commerce7Webhooks"
    if hooks in creds:
        if commerce7_webhooks_enabled():
            creds[hooks] = {k: v for k, v in creds[hooks].items() if not unset_env_ref(v)}
        else:
            creds.pop(hooks)
    path = RUN_DIR / "credentials.yml"
    path.write_text(yaml.safe_dump(creds, sort_keys=False))
    path.chmod(0o600)  # holds the staff channel secret
    return path


def write_endpoints() -> Path:
    from scripts import endpoints

    path = RUN_DIR / "endpoints.yml"
    for line in endpoints.write(path, os.environ, f"http://localhost:{ACTION_PORT}/webhook", DATA_DIR):
        say(line)
    return path


def wait_http(url: str, timeout: float, services: list[Service], stopping: Optional[Stopping] = None) -> bool:
    """True once `url` answers below 500; False on timeout, a service exiting, or a stop request."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(s.proc and s.proc.poll() is not None for s in services):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return True
        except Exception:
            pass
        if stopping is not None and stopping.wait(0.5):
            return False
        if stopping is None:
            time.sleep(0.5)
    return False


def announce(ready: bool, stopping: Stopping, ready_line: str) -> None:
    """Say the stack is ready, or that it is stopping because a service did not start."""
    if stopping.is_set():
        return
    if ready:
        say(ready_line)
    else:
        say("a service failed to start (see its lines above): stopping")
        stopping.set()


def commerce7_services() -> list[Service]:
    """The demo emulator, unless credentials of a real tenant are set."""
    if all(os.environ.get(k) for k in ("C7_APP_ID", "C7_SECRET", "C7_TENANT")):
        return []
    port = _port("C7_EMULATOR_PORT", 7070)
    os.environ["C7_API_URL"] = f"http://127.0.0.1:{port}/v1"
    # the emulator posts its web hooks to the assistant, with Basic auth generated once like the other secrets
    for name in ("C7_WEBHOOK_USER", "C7_WEBHOOK_PASSWORD"):
        if not os.environ.get(name):
            path = DATA_DIR / name.lower()
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("demo-hooks" if name.endswith("USER") else secrets.token_urlsafe(24))
                path.chmod(0o600)
            os.environ[name] = path.read_text().strip()
    hook = f"http://127.0.0.1:{RASA_PORT}/webhooks/commerce7"
    return [Service("c7-demo", [str(ACTIONS_PY), "-m", "commerce7_demo.emulator", "--port", str(port),
                                "--data-file", str(DATA_DIR / "c7-emulator.json"), "--webhook-url", hook])]


def main() -> int:
    stopping = supervise()  # first: a Ctrl-C or SIGTERM from here on stops cleanly
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    if not MODEL.exists():
        say(f"no trained model at {MODEL}: run `make run` (it trains first)")
        return 1
    sys.path.insert(0, str(ROOT))
    from actions.settings import Settings
    from scripts.migrate import migrate

    emulator = commerce7_services()
    for line in Settings.from_env().describe():
        say(line)
    migrate(say)  # the schema, once, before any server starts: replicas never race to create tables
    token = auth_token()
    action_token()
    credentials = write_credentials()
    endpoints = write_endpoints()
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ.update(quiet_env())  # every service inherits it
    os.environ.setdefault("CONSOLE_URL", f"http://localhost:{_port('CONSOLE_PORT', 8090)}")  # hand-off notices link it
    services = emulator + [
        Service("actions", action_server(ACTION_PORT), {"PYTHONPATH": pythonpath, "MILEA_DATA_DIR": str(DATA_DIR)}),
        Service("rasa", [str(RASA_PY), "-m", "scripts.rasa_server", "run", "--enable-api",  # token: RASA_AUTH_TOKEN
                         "--cors", *widget_origins(), "--port", str(RASA_PORT),
                         "--model", str(MODEL), "--credentials", str(credentials), "--endpoints", str(endpoints)],
                {"PYTHONPATH": pythonpath, "RASA_AUTH_TOKEN": token, **RASA_OFFLINE}),
        Service("jobs", [str(ACTIONS_PY), "-m", "jobs.scheduler"],  # texts it sends go into their conversations
                {"PYTHONPATH": pythonpath, "MILEA_DATA_DIR": str(DATA_DIR), "RASA_AUTH_TOKEN": token,
                 "RASA_URL": f"http://127.0.0.1:{RASA_PORT}"}),
        Service("widget", [str(ACTIONS_PY), "-m", "scripts.serve_widget", "--port", str(WIDGET_PORT),
                           "--server-url", os.environ.get("WIDGET_SERVER_URL", f"http://localhost:{RASA_PORT}")],
                {"PYTHONPATH": pythonpath}),
        Service("console", [str(ACTIONS_PY), "-m", "console"],
                {"PYTHONPATH": pythonpath, "MILEA_DATA_DIR": str(DATA_DIR), "RASA_AUTH_TOKEN": token,
                 "RASA_PORT": str(RASA_PORT)}),
    ]
    started: list[Service] = []
    for service in services:
        if stopping.is_set():
            break
        service.start()
        started.append(service)
    ready = not stopping.is_set() and wait_http(
        f"http://localhost:{RASA_PORT}/", float(os.environ.get("MILEA_START_TIMEOUT", 180)), services, stopping)
    announce(ready, stopping, f"ready: chat at http://localhost:{WIDGET_PORT} | REST http://localhost:{RASA_PORT}"
                              f"/webhooks/rest/webhook | socket.io http://localhost:{RASA_PORT}/socket.io | Ctrl-C stops "
                              "everything")
    code = 0
    while not stopping.wait(0.5):
        for service in started:
            if service.proc and service.proc.poll() is not None:
                say(f"{service.name} exited with code {service.proc.returncode}: stopping everything")
                code = 1
                stopping.set()
    say("stopping")
    stop_services(started, stopping)
    stopping.finish()
    say("stopped")
    return code if ready else 1


if __name__ == "__main__":
    sys.exit(main())
