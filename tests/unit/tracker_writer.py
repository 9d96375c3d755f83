"""Run under the Rasa venv by the SQLite stress test: Rasa's tracker store (ours) saving turns.

    python -m tests.unit.tracker_writer <sqlite file> <sender prefix> <seconds>
Prints "ready" once Rasa is imported, waits for a line on stdin (the start), saves one-event
turns for <seconds>, then prints the JSON {"saved": n, "errors": [...]} (failed saves and the
store's own retries of a failed write).
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
import time


class Retries(logging.Handler):
    """Counts the store's own retries: a write that had to be tried again failed once."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage()[:200])


async def main(path: str, prefix: str, seconds: float) -> dict:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from stores.sql_tracker_store import CheckedSQLTrackerStore

    retries = Retries()
    logging.getLogger("stores.sql_tracker_store").addHandler(retries)
    store = CheckedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=path)
    print("ready", flush=True)
    sys.stdin.readline()
    saved, errors, deadline, turn = 0, [], time.monotonic() + seconds, 0
    tracker = DialogueStateTracker(f"{prefix}-0", [])
    while time.monotonic() < deadline:
        turn += 1
        if turn % 20 == 0:  # a new conversation now and then: reads of other senders too
            tracker = DialogueStateTracker(f"{prefix}-{turn}", [])
        tracker.update(UserUttered(f"message {turn}", message_id=f"{prefix}-m{turn}"))
        tracker.update(ActionExecuted("action_listen"))
        try:
            await store.save(tracker)
            saved += 2
        except Exception as exc:  # every failure is reported to the test
            errors.append(repr(exc)[:300])
    return {"saved": saved, "errors": errors + retries.seen}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))), flush=True)
