"""Run under the Rasa venv by test_lock_leases.py: one replica's side of a conversation lock.

    python -m tests.production.lock_holder hold <conversation> <seconds>   # prints "held <t>", "released <t>"
    python -m tests.production.lock_holder wait <conversation>             # prints "waiting <t>", "acquired <t>"
Redis from TEST_REDIS_URL; the store's lease and ceiling from TICKET_LEASE_S and TICKET_LOCK_LIFETIME,
as in a replica. Each prints "ready" once loaded, then acts on a line on stdin. `hold` keeps the lock
with its event loop blocked (time.sleep), as a turn busy computing would; `wait` prints "waiting" once
its ticket is queued behind another. <t> is the wall-clock time.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
from urllib.parse import urlsplit


def say(what: str) -> None:
    print(f"{what} {time.time():.3f}", flush=True)


async def main(mode: str, conversation: str, seconds: float) -> None:
    from stores.redis_lock_store import AtomicRedisLockStore

    url = urlsplit(os.environ["TEST_REDIS_URL"])
    store = AtomicRedisLockStore(host=url.hostname, port=url.port or 6379, db=int(url.path.strip("/") or 0),
                                 password=url.password, key_prefix="miltest")
    say("ready")
    sys.stdin.readline()
    if mode == "hold":
        async with store.lock(conversation):
            say("held")
            time.sleep(seconds)
        say("released")
        return

    async def take() -> None:
        async with store.lock(conversation):
            say("acquired")

    turn = asyncio.create_task(take())
    while not turn.done():
        lock = store.get_lock(conversation)
        if lock and len(lock.tickets) > 1:
            say("waiting")
            break
        await asyncio.sleep(0.05)
    await turn


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0))
