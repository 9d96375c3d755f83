"""The event broker's health as the running Rasa processes report it (no Rasa import needed).

Each Rasa process with the RabbitMQ broker on (stores.event_broker) keeps
<status_dir>/event_broker-<pid>.json up to date. A health check runs

    python -m stores.broker_health [<status_dir>]      (default .data/health)

which prints {"status": "up"|"down"|"off", "pending": n, "processes": [...]} and exits 1 while
RabbitMQ is down for any running process.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Dict


def status_file(status_dir: Path, pid: int) -> Path:
    return Path(status_dir) / f"event_broker-{pid}.json"


def read_status(status_dir: Path) -> Dict[str, Any]:
    """What the running Rasa processes report; files of processes that are gone are ignored."""
    processes = []
    for path in sorted(Path(status_dir).glob("event_broker-*.json")):
        try:
            state = json.loads(path.read_text())
            os.kill(int(state["pid"]), 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        processes.append(state)
    if not processes:
        return {"status": "off", "pending": 0, "processes": []}
    down = [p for p in processes if p.get("status") != "up"]
    return {"status": "down" if down else "up", "pending": sum(int(p.get("pending", 0)) for p in processes),
            "processes": processes}


def main(argv: list) -> int:
    found = read_status(Path(argv[0] if argv else ".data/health"))
    print(json.dumps(found))
    return 1 if found["status"] == "down" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
