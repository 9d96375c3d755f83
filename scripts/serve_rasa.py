"""One Rasa replica of the production profile (docker-compose.yml services rasa1, rasa2; `make cluster`).

Writes credentials.yml (the Twilio section only when Twilio is configured) and endpoints.yml
(stores from TRACKER_DB_URL, REDIS_URL, RABBITMQ_URL; actions at ACTION_SERVER_URL) from the
environment, checks the mode (scripts/modes.py), then becomes the Rasa server (scripts/rasa_server.py:
the tuning, then `rasa run`; same process id).

    python -m scripts.serve_rasa --port 5005 --model models/milea.tar.gz

Environment: RASA_AUTH_TOKEN (required), WIDGET_ORIGINS (space-separated sites allowed to call
it from a browser; PUBLIC_URL is added), LOG_FORMAT=json for one JSON object per log line.
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

import yaml

from channels.origins import widget_origins
from scripts import endpoints, modes, run

LOGGING_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "logging-json.yml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--model", required=True)
    args = parser.parse_args(argv)
    if not modes.check(os.environ, ("secrets", "https")):
        return 2
    token = (os.environ.get("RASA_AUTH_TOKEN") or "").strip()
    if not token:
        run.say("RASA_AUTH_TOKEN is not set: a replica never makes up its own token (set it in .env)")
        return 2
    data_dir = Path(os.environ.get("MILEA_DATA_DIR") or ".data").resolve()
    out = data_dir / "rasa-config" / f"{socket.gethostname()}-{args.port}"
    out.mkdir(parents=True, exist_ok=True)
    run.RUN_DIR = out  # write_credentials writes into the run folder
    credentials = run.write_credentials()
    channels = yaml.safe_load(credentials.read_text())
    channels["channels.ops.OpsInput"] = {}  # the replica's health and metrics (the proxy keeps them internal)
    credentials.write_text(yaml.safe_dump(channels, sort_keys=False))
    action_url = os.environ.get("ACTION_SERVER_URL") or "http://localhost:5055/webhook"
    for line in endpoints.write(out / "endpoints.yml", os.environ, action_url, data_dir):
        run.say(line)
    origins = widget_origins()
    # `rasa run` with the token from RASA_AUTH_TOKEN (scripts/rasa_server.py): never on the command line
    command = [sys.executable, "-m", "scripts.rasa_server", "run", "--enable-api",
               "--port", str(args.port), "--model", args.model,
               "--credentials", str(credentials), "--endpoints", str(out / "endpoints.yml")]
    command += ["--cors", *origins] if origins else []
    if (os.environ.get("LOG_FORMAT") or "").lower() == "json":
        command += ["--logging-config-file", str(LOGGING_CONFIG)]
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    sys.stdout.flush()
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
