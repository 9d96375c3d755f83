"""A quiet start (core/quiet.py): the Rasa server's imports print no third-party deprecation noise,
a warning of our own still shows, and MILEA_WARNINGS=all shows everything."""
from __future__ import annotations

import os
import subprocess

import pytest

from core.paths import ROOT

RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
START = """
from core.quiet import quiet
from core.settings import shared_settings
quiet(shared_settings().show_all_warnings, preload=("matplotlib.font_manager",))
import rasa.utils.common
rasa.utils.common._filter_warnings(20)  # what `rasa run` does at start: UserWarnings "once"
import rasa.core.run, rasa.core.agent, rasa.core.tracker_store, matplotlib.font_manager
import channels.socketio, channels.rest, stores.sql_tracker_store, rasa_tuning
import warnings
warnings.warn("a warning of our own", UserWarning)
"""


def start(**env: str) -> str:
    if not RASA_PY.exists():
        pytest.skip("the Rasa venv is not set up")
    quiet_env = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}  # as scripts/run.py sets
    done = subprocess.run([str(RASA_PY), "-c", START], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **quiet_env, **env})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_third_party_deprecations_are_quiet_and_ours_show():
    output = start(MILEA_WARNINGS="")
    assert "DeprecationWarning" not in output and "MovedIn20Warning" not in output, output
    assert "a warning of our own" in output


def test_milea_warnings_all_shows_them():
    assert "DeprecationWarning" in start(MILEA_WARNINGS="all")
