"""The embedded SQLite file shared by every store at once: Rasa's tracker store (in its own
processes, as in `make run`), feedback and the Commerce7 outbox (threads, as in the action
server), and the staff console (folding conversations, staff taking them over; paced as it
runs). 10 writers for several seconds: no write fails and every row is there."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from core.commerce7.outbox import Outbox
from core.feedback_store import Feedback, FeedbackStore
from console import schema, summaries
from console.db import ConsoleDB

from core.paths import ROOT
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
SECONDS = 4.0
CONSOLE_PACE_S = 0.05  # the console polls (CONSOLE_POLL_S) and staff click: never a tight loop of writes


def rasa_python() -> Path:
    if not RASA_PY.exists():
        reason = f"{RASA_PY} missing (make venvs)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return RASA_PY


def start_tracker_writer(path: Path, prefix: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    return subprocess.Popen([str(rasa_python()), "-m", "tests.unit.tracker_writer", str(path), prefix, str(SECONDS)],
                            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_ten_writers_share_the_sqlite_file_without_a_single_error(tmp_path):
    path = tmp_path / "tracker.db"  # one file for every store, like the default data folder
    url = f"sqlite:///{path}"
    trackers = [start_tracker_writer(path, f"conv{n}") for n in range(2)]
    try:
        for process in trackers:  # Rasa imported and the store open: the race starts together
            assert process.stdout.readline().strip() == "ready"
        feedback, outbox, console = FeedbackStore(url), Outbox(path), ConsoleDB(url)
        schema.create(console)
        written = {"feedback": [], "outbox": [], "takeovers": []}
        errors = []
        start = threading.Event()

        def feedback_writer(n: int) -> None:
            start.wait()
            deadline, i = time.monotonic() + SECONDS, 0
            while time.monotonic() < deadline:
                i += 1
                try:
                    feedback.add(Feedback(f"web-{n}", "socketio", "thumb", 1, answer_text=f"a{i}",
                                          turn_key=f"{n}-{i}"))
                    written["feedback"].append(f"{n}-{i}")
                except Exception as exc:
                    errors.append(exc)

        def outbox_writer(n: int) -> None:
            start.wait()
            deadline, i = time.monotonic() + SECONDS, 0
            while time.monotonic() < deadline:
                i += 1
                try:
                    job = outbox.enqueue("subscribe", f"subscribe:{n}-{i}", {"email": f"fan{n}.{i}@example.com"})
                    written["outbox"].append(job.key)
                    if i % 5 == 0:  # the deliverer claims and finishes jobs meanwhile
                        for due in outbox.due(now=time.time() + 1e6, limit=3):
                            outbox.mark_done(due, {"ok": True})
                except Exception as exc:
                    errors.append(exc)

        def console_folder() -> None:  # the console's own writer: conversations folded from the events
            start.wait()
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                try:
                    summaries.catch_up(console)
                except Exception as exc:
                    errors.append(exc)
                time.sleep(CONSOLE_PACE_S)

        def console_takeovers() -> None:  # staff taking over and giving back
            start.wait()
            deadline, i = time.monotonic() + SECONDS, 0
            while time.monotonic() < deadline:
                i += 1
                try:
                    with console.transaction() as tx:
                        tx.run("INSERT INTO console_takeovers (sender_id, user_id, user_name, at) VALUES (?, ?, ?, ?)",
                               (f"conv-{i}", "u1", "Anna", time.time()))
                        tx.run("DELETE FROM console_takeovers WHERE sender_id = ?", (f"conv-{i - 1}",))
                    written["takeovers"].append(f"conv-{i}")
                except Exception as exc:
                    errors.append(exc)
                time.sleep(CONSOLE_PACE_S)

        threads = [threading.Thread(target=feedback_writer, args=(n,)) for n in range(3)]
        threads += [threading.Thread(target=outbox_writer, args=(n,)) for n in range(3)]
        threads += [threading.Thread(target=console_folder), threading.Thread(target=console_takeovers)]
        for thread in threads:
            thread.start()
        start.set()
        for process in trackers:
            process.stdin.write("go\n")
            process.stdin.flush()
        for thread in threads:
            thread.join()
        reports = [json.loads(process.communicate(timeout=120)[0].strip().splitlines()[-1]) for process in trackers]
    finally:
        for process in trackers:
            if process.poll() is None:
                process.kill()
    assert errors == [] and [r["errors"] for r in reports] == [[], []]
    with sqlite3.connect(path) as db:
        events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stored_feedback = {row.turn_key for row in feedback.all()}
    stored_jobs = {job.key for job in outbox.jobs(limit=10 ** 6)}
    assert stored_feedback == set(written["feedback"]) and len(written["feedback"]) > 10
    assert stored_jobs == set(written["outbox"]) and len(written["outbox"]) > 10
    assert events == sum(r["saved"] for r in reports) and events > 4  # writers are not queued fairly
    summaries.catch_up(console)  # whatever the folds under load left: each conversation up to its last event
    with sqlite3.connect(path) as db:
        last_events = dict(db.execute("SELECT sender_id, MAX(id) FROM events GROUP BY sender_id").fetchall())
        folded = dict(db.execute("SELECT sender_id, last_event_id FROM console_conversations").fetchall())
        held = [row[0] for row in db.execute("SELECT sender_id FROM console_takeovers")]
    assert folded == last_events and held == written["takeovers"][-1:]
    print(f"\nstress: {SECONDS:.0f} s, 10 writers: {len(stored_feedback)} feedback rows, "
          f"{len(stored_jobs)} outbox jobs, {len(written['takeovers'])} console take-overs, "
          f"{events} tracker events, 0 errors")
