"""Run under the Rasa venv by test_event_broker.py: our tracker store (SQLite) with our RabbitMQ
event broker, driven line by line on stdin.

    python -m tests.production.broker_probe <sqlite file> <amqp port> <queue> <status dir>
Commands: "save <sender> <n>" saves n turns (2 events each) and answers "saved"; "status"
answers the broker's status as JSON; "quit" closes the broker. Every published event is
checked at publish time: was it already in the tracker database? ("early" counts the ones
that were not.)
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys


async def main(path: str, port: int, queue: str, status_dir: str) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from stores.event_broker import CheckedPikaEventBroker
    from stores.sql_tracker_store import CheckedSQLTrackerStore

    config = EndpointConfig(url="127.0.0.1", port=port, username="guest", password="guest", queues=[queue], exchange_name=f"{queue}.exchange",
                            status_dir=status_dir, type="stores.event_broker.CheckedPikaEventBroker")
    broker = await CheckedPikaEventBroker.from_endpoint_config(config, asyncio.get_running_loop())
    store = CheckedSQLTrackerStore(Domain.empty(), dialect="sqlite", db=path, event_broker=broker)
    early = 0
    publish = broker.publish

    def checked_publish(event: dict, headers=None) -> None:
        nonlocal early
        with sqlite3.connect(path) as db:
            stored = db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ? AND timestamp = ?",
                                (event["sender_id"], event["timestamp"])).fetchone()[0]
        early += 0 if stored else 1
        publish(event, headers)

    broker.publish = checked_publish
    trackers: dict = {}
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        if not line or line[0] == "quit":
            break
        if line[0] == "save":
            tracker = trackers.setdefault(line[1], DialogueStateTracker(line[1], []))
            for _ in range(int(line[2])):
                tracker.update(UserUttered(f"turn {len(tracker.events)}"))
                tracker.update(ActionExecuted("action_listen"))
                await store.save(tracker)
            print("saved", flush=True)
        elif line[0] == "status":
            print(json.dumps({**broker.status(), "early": early}), flush=True)
    await broker.close()
    print("closed", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
