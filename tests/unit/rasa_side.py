"""For unit tests of code that runs inside the Rasa server: a snippet run under the Rasa venv (it has
python-socketio and the redis client, the actions venv does not), and the Redis those snippets use."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from urllib.parse import urlsplit

import pytest

from core.paths import ROOT
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def run_in_rasa_venv(code: str, *args: str, timeout: float = 90):
    """Runs `code` with `args` under the Rasa venv from the project root.

    Returns: the JSON value of the last line the snippet printed.
    """
    done = subprocess.run([str(RASA_PY), "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def require_redis() -> None:
    """Skips without Redis at REDIS_URL; fails in CI (CI=true), which must have it."""
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2):
            return
    except OSError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Redis at {REDIS_URL}, and CI must have it")
        pytest.skip(f"no Redis at {REDIS_URL}")
