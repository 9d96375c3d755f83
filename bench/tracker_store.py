"""What the tracker store costs a turn: the assistant's model answering 10-turn conversations in
one process, its tracker kept by vanilla Rasa's in-memory store (what `rasa init` uses), by
Rasa's own SQLTrackerStore on SQLite, and by ours (stores.sql_tracker_store) with and without
the kept trackers. Same model, same messages, same process, the stores taking turns round by
round, so a busy machine slows them alike. Reports per turn the CPU time of the whole turn
and the wall time spent inside the store (retrieve + save). Runs in the Rasa venv:

    .venv/rasa/bin/python -m bench.tracker_store [--rounds 3 --conversations 4]

Writes bench/results/tracker_store.json. No action server runs: turns that would call a
custom action fail it quickly, the same for every store.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import ROOT, write_result

MODEL = ROOT / "models" / "milea.tar.gz"
TURNS = ["hello", "what are your hours", "hi", "are you open on sunday?", "hey there",
         "can i bring my dog?", "hello", "when are you open", "thanks", "hiya"]


class Timed:
    """The store with its retrieve and save timed (wall clock: the event loop waits for them)."""

    def __init__(self, store: Any) -> None:
        self.store, self.spent = store, 0.0
        for name in ("retrieve", "save"):
            setattr(self, name, self._timed(getattr(store, name)))

    def _timed(self, call: Callable) -> Callable:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            finally:
                self.spent += time.perf_counter() - started
        return timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def stores(folder: Path) -> dict[str, Callable[[], Any]]:
    from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore

    from stores.sql_tracker_store import CheckedSQLTrackerStore

    return {
        "vanilla_in_memory": lambda: InMemoryTrackerStore(None),
        "rasa_sql_sqlite": lambda: SQLTrackerStore(None, dialect="sqlite", db=str(folder / "rasa.db")),
        "ours_uncached": lambda: CheckedSQLTrackerStore(None, dialect="sqlite", db=str(folder / "uncached.db"),
                                                        cache_conversations=0),
        "ours_cached": lambda: CheckedSQLTrackerStore(None, dialect="sqlite", db=str(folder / "cached.db")),
    }


async def measure(args: argparse.Namespace) -> dict:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    folder = Path(tempfile.mkdtemp(prefix="milea-tracker-bench-"))
    agent = Agent.load(str(MODEL))
    made = {name: Timed(make()) for name, make in stores(folder).items()}
    for timed in made.values():
        timed.store.domain = agent.domain
    samples: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "store": []} for name in made}

    async def conversation(name: str, sender: str) -> tuple[float, float]:
        timed = made[name]
        agent.processor.tracker_store = timed
        spent, cpu = timed.spent, time.process_time()
        for text in TURNS:
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
        return (time.process_time() - cpu) / len(TURNS), (timed.spent - spent) / len(TURNS)

    for name in made:  # warm-up: graph, TensorFlow, SQL pools
        await conversation(name, f"warm-{name}")
    for round_ in range(args.rounds):
        for n in range(args.conversations):
            for name in made:
                cpu, store = await conversation(name, f"{name}-{round_}-{n}")
                samples[name]["cpu"].append(cpu)
                samples[name]["store"].append(store)
    result: dict = {"turns_per_conversation": len(TURNS), "conversations_per_store": args.rounds * args.conversations,
                    "stores": {}}
    for name, seen in samples.items():
        result["stores"][name] = {"turn_cpu_ms": round(statistics.median(seen["cpu"]) * 1000, 2),
                                  "store_ms_per_turn": round(statistics.median(seen["store"]) * 1000, 2)}
    base = result["stores"]["vanilla_in_memory"]["turn_cpu_ms"]
    for values in result["stores"].values():
        values["turn_cpu_vs_vanilla"] = round(values["turn_cpu_ms"] / base, 3)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=4, help="per store and round")
    parser.add_argument("--name", default="tracker_store")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    result = asyncio.run(measure(args))
    for name, values in result["stores"].items():
        print(f"[tracker_store] {name:18} turn CPU {values['turn_cpu_ms']:6.2f} ms "
              f"({values['turn_cpu_vs_vanilla']:.2f}x vanilla)  in the store {values['store_ms_per_turn']:5.2f} ms")
    print(f"[tracker_store] written to {write_result(args.name, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
