"""Importing a module starts nothing: the action server's entry point starts the knowledge warm-up."""
from __future__ import annotations

import os
import subprocess
import sys

from core.paths import ROOT

THREADS = "import threading; print(sorted(t.name for t in threading.enumerate()))"


def _run(code: str, tmp_path, warm: str) -> str:
    env = {**os.environ, "MILEA_WARM_ON_START": warm, "MILEA_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_actions_starts_no_thread(tmp_path):
    modules = "import actions.knowledge_answers, actions.responder, actions.wine, actions.hours"
    assert _run(f"{modules}; {THREADS}", tmp_path, warm="1") == "['MainThread']"


def test_the_entry_point_starts_the_warm_up_unless_told_not_to(tmp_path):
    code = f"from scripts.action_server import start_warm_up; start_warm_up(); {THREADS}"
    assert "knowledge-warmup" in _run(code, tmp_path, warm="1")
    assert _run(code, tmp_path, warm="0") == "['MainThread']"
