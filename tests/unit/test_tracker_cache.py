"""The tracker store keeps the trackers it saved (stores.tracker_cache): a turn reads them back
with one small query, a save writes only the new events, and every kept tracker is exactly
what a fresh read of the database rebuilds, also after another replica wrote, after a turn
that never saved, across a new session and once evicted. The store runs in the Rasa venv
(tests/unit/tracker_cache_checks.py); each scenario compares with a store that keeps nothing."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core.paths import ROOT
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
MARK_QUERY = "SELECT count(events.id) AS count_1, max(events.id) AS max_1 FROM events WHERE events.sender_id = ?"


def scenario(name: str, tmp_path: Path) -> dict:
    if not RASA_PY.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{RASA_PY} missing (make venvs)")
        pytest.skip(f"{RASA_PY} missing (make venvs)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    env.pop("TRACKER_CACHE_CONVERSATIONS", None)
    done = subprocess.run([str(RASA_PY), "-m", "tests.unit.tracker_cache_checks", name, str(tmp_path / "tracker.db")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def kinds(events: list) -> list:
    return [(e["event"], e.get("name") or e.get("text")) for e in events]


def test_a_kept_tracker_is_read_back_with_one_small_query_and_saved_without_counting(tmp_path):
    seen = scenario("hit", tmp_path)
    assert seen["same_object"]
    assert seen["read"] == {"selects": [MARK_QUERY], "inserts": 0}  # no events read, no tracker rebuilt
    assert seen["second_save"] == {"selects": [], "inserts": 5}  # only the turn's 5 events, no count
    assert seen["kept"] == seen["fresh"]
    assert kinds(seen["fresh"])[-5:] == [("user", "message 2"), ("slot", "wine"), ("action", "utter_greet"),
                                         ("bot", "answer 2"), ("action", "action_listen")]


def test_another_replicas_write_is_noticed_and_the_conversation_read_again(tmp_path):
    seen = scenario("other_writer", tmp_path)
    assert not seen["same_object"] and not seen["b_same_object"]
    assert len(seen["read"]["selects"]) == 2  # the mark differed: the events were read
    assert seen["save"] == {"selects": [], "inserts": 5}
    assert seen["a"] == seen["b"] == seen["fresh"]
    messages = [text for kind, text in kinds(seen["fresh"]) if kind == "user"]
    assert messages == ["message 1", "message 2", "message 3"]  # each once, in order


def test_the_least_recently_used_conversation_is_evicted_and_read_again(tmp_path):
    seen = scenario("eviction", tmp_path)
    assert seen["kept"] == 2
    assert not seen["first_same_object"] and len(seen["first_read"]["selects"]) == 2
    assert seen["last_same_object"]
    assert seen["first"] == seen["fresh"]


def test_a_turn_that_never_saved_leaves_nothing_behind(tmp_path):
    seen = scenario("unsaved_turn", tmp_path)
    assert not seen["same_object"]
    assert seen["again"] == seen["fresh"]
    assert "message 2" not in [text for _, text in kinds(seen["again"])]


def test_two_callers_never_share_a_tracker_and_the_orphans_save_still_counts(tmp_path):
    seen = scenario("lent_twice", tmp_path)
    assert seen["distinct"] and seen["peek_unchanged"]
    assert seen["again"] == seen["holder"] == seen["fresh"]
    assert [text for kind, text in kinds(seen["fresh"]) if kind == "user"] == ["message 1", "message 2"]


def test_a_new_session_is_read_back_as_a_read_would_see_it(tmp_path):
    seen = scenario("new_session", tmp_path)
    assert not seen["same_object"]  # the saved tracker still held the old session
    assert seen["again"] == seen["fresh"]
    assert [text for kind, text in kinds(seen["fresh"]) if kind == "user"] == ["message 2"]
