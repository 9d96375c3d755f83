"""Run under the Rasa venv by test_tracker_cache.py: the tracker store's kept trackers, scenario by scenario.

    python -m tests.unit.tracker_cache_checks <scenario> <sqlite file>
Prints one JSON object of what the scenario saw (the SQL statements each step ran, the trackers'
events as a fresh read rebuilds them, ...); the test asserts on it.
"""
from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Callable

import sqlalchemy as sa


def _domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.from_yaml("""
version: "3.1"
intents: [greet, ask_hours]
slots:
  wine:
    type: text
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hi}]
""")


class Statements:
    """The SQL statements an engine runs, by kind, since the last take()."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.seen: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def take(self) -> dict:
        seen, self.seen = self.seen, []
        return {"selects": [s for s in seen if s.upper().startswith("SELECT")],
                "inserts": sum(s.upper().startswith("INSERT") for s in seen)}


def _store(path: str, **kwargs: Any) -> Any:
    from stores.sql_tracker_store import CheckedSQLTrackerStore

    return CheckedSQLTrackerStore(_domain(), dialect="sqlite", db=path, **kwargs)


def _new_session(sender_id: str) -> Any:
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender_id, _domain().slots)
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def _turn(tracker: Any, n: int) -> Any:
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    tracker.update(UserUttered(f"message {n}", intent={"name": "greet", "confidence": 1.0}, message_id=f"m{n}"))
    tracker.update(SlotSet("wine", f"wine {n}"))
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(BotUttered(f"answer {n}"))
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def _events(tracker: Any) -> list:
    return [e.as_dict() for e in tracker.events] if tracker is not None else None


async def _fresh(path: str, sender_id: str) -> list:
    """The tracker as a store that never saw the conversation reads it (the ground truth)."""
    return _events(await _store(path, cache_conversations=0).retrieve(sender_id))


async def hit(path: str) -> dict:
    store = _store(path)
    sql = Statements(store.engine)
    tracker = _turn(_new_session("web-1"), 1)
    await store.save(tracker)
    first_save = sql.take()
    again = await store.retrieve("web-1")
    read = sql.take()
    _turn(again, 2)
    await store.save(again)
    second_save = sql.take()
    return {"same_object": again is tracker, "first_save": first_save, "read": read, "second_save": second_save,
            "kept": _events(tracker), "fresh": await _fresh(path, "web-1")}


async def other_writer(path: str) -> dict:
    a, b = _store(path), _store(path)  # two replicas sharing the database
    mine = _turn(_new_session("web-2"), 1)
    await a.save(mine)
    theirs = await b.retrieve("web-2")
    await b.save(_turn(theirs, 2))
    sql = Statements(a.engine)
    again = await a.retrieve("web-2")
    read = sql.take()
    await a.save(_turn(again, 3))
    save = sql.take()
    back = await b.retrieve("web-2")  # b's kept tracker is stale now too
    return {"same_object": again is mine, "read": read, "save": save, "a": _events(again),
            "b_same_object": back is theirs, "b": _events(back), "fresh": await _fresh(path, "web-2")}


async def eviction(path: str) -> dict:
    store = _store(path, cache_conversations=2)
    trackers = {}
    for n in range(3):
        trackers[n] = _turn(_new_session(f"web-e{n}"), n)
        await store.save(trackers[n])
    kept = len(store.cache)
    sql = Statements(store.engine)
    first = await store.retrieve("web-e0")  # least recently used: dropped
    first_read = sql.take()
    last = await store.retrieve("web-e2")
    return {"kept": kept, "first_same_object": first is trackers[0], "first_read": first_read,
            "last_same_object": last is trackers[2], "first": _events(first), "fresh": await _fresh(path, "web-e0")}


async def unsaved_turn(path: str) -> dict:
    store = _store(path)
    tracker = _turn(_new_session("web-3"), 1)
    await store.save(tracker)
    lent = await store.retrieve("web-3")
    _turn(lent, 2)  # the turn fails before its save
    again = await store.retrieve("web-3")
    return {"same_object": again is lent, "again": _events(again), "fresh": await _fresh(path, "web-3")}


async def lent_twice(path: str) -> dict:
    store = _store(path)
    await store.save(_turn(_new_session("web-4"), 1))
    holder = await store.retrieve("web-4")
    peek = await store.retrieve("web-4")  # e.g. a reader outside the conversation's lock
    distinct = holder is not peek
    _turn(holder, 2)
    await store.save(holder)  # no longer the kept one: Rasa's rule finds the new events
    again = await store.retrieve("web-4")
    return {"distinct": distinct, "peek_unchanged": len(peek.events) == 8, "again": _events(again),
            "holder": _events(holder), "fresh": await _fresh(path, "web-4")}


async def new_session(path: str) -> dict:
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    store = _store(path)
    tracker = _turn(_new_session("web-5"), 1)
    await store.save(tracker)
    tracker = await store.retrieve("web-5")
    tracker.update(SessionStarted())  # the session expired: the old session stays in this tracker
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(ActionExecuted("action_listen"))
    _turn(tracker, 2)
    await store.save(tracker)
    again = await store.retrieve("web-5")
    return {"same_object": again is tracker, "again": _events(again), "fresh": await _fresh(path, "web-5")}


SCENARIOS: dict[str, Callable[[str], Any]] = {
    f.__name__: f for f in (hit, other_writer, eviction, unsaved_turn, lent_twice, new_session)}

if __name__ == "__main__":
    print(json.dumps(asyncio.run(SCENARIOS[sys.argv[1]](sys.argv[2]))), flush=True)
