"""Rasa's SQL tracker store, made to ride out a database restart, safe beside other writers of
its SQLite file, and publishing events only once they are stored.

Rasa 3.6 pools PostgreSQL connections without a liveness check, and when a read or a
write fails its fail-safe wrapper silently carries on with an empty in-memory tracker:
the customer is answered and the message is lost (seen here on a PostgreSQL restart).
Here a connection is checked as it leaves the pool (`pool_pre_ping`), and a read or write
that fails on the connection is tried again for a bounded time, so a restart of a few
seconds delays turns instead of losing them.

On SQLite (the embedded default) the file is shared with the action server's tables
(feedback) and other processes. Rasa's save reads (which events are new) and then writes
in one transaction; under pysqlite's deferred BEGIN that is a reader becoming a writer,
which SQLite refuses at once ("database is locked", no busy wait) when another connection
wrote meanwhile. So a save here begins with BEGIN IMMEDIATE (the write lock up front,
waiting through the busy timeout), reads begin with a plain BEGIN (WAL: they never wait),
and the journal mode is set once per file (actions.database.prepare_sqlite), not on every
connection. A pooled connection also saves about 1.5 ms of a 33 ms turn.

Rasa streams a turn's events to the broker before writing them, so a failed write could
publish events that never happened. Here the new events are worked out first, written, and
only then published (stores.event_broker keeps them through a broker outage).
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Text, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerEventDiffEngine, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

from actions.database import BUSY_TIMEOUT_S, prepare_sqlite

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_FOR_S = 20.0  # well below the lock lifetime (30 s in the cluster)
WRITE = "milea_write"  # execution option: this session's transactions write


def _no_driver_transactions(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN itself


def _begin(connection: Any) -> None:
    write = connection.get_execution_options().get(WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class CheckedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        if url.get_backend_name() == "sqlite":
            if url.database:
                prepare_sqlite(Path(url.database))
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2,
                                           connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S})
            sa.event.listen(self.engine, "connect", _no_driver_transactions)
            sa.event.listen(self.engine, "begin", _begin)
            writer = self.engine.execution_options(**{WRITE: True})
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            writer = self.engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._write_sessionmaker = sa.orm.session.sessionmaker(bind=writer)

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        deadline, delay = time.monotonic() + RETRY_FOR_S, 0.25
        while True:
            try:
                return await call()
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("tracker store %s failed (%s): retrying in %.2fs", what, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrying("read", lambda: super(CheckedSQLTrackerStore, self).retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrying(
            "read", lambda: super(CheckedSQLTrackerStore, self).retrieve_full_tracker(conversation_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the new events, then publish them (never events that were not stored)."""
        new_events = []
        if self.event_broker is not None:
            old = await self.retrieve(tracker.sender_id)
            new_events = TrackerEventDiffEngine.event_difference(old, tracker)
        await self._retrying("write", lambda: self._write(tracker))
        if new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def _write(self, tracker: DialogueStateTracker) -> None:
        async def not_now(_: DialogueStateTracker) -> None:
            return None

        # Rasa's save streams, then writes in one session. Nothing else runs on the loop while
        # these are swapped (the stand-in never awaits and the write is synchronous), so only this
        # call skips the stream and writes through the BEGIN IMMEDIATE sessions.
        self.stream_events = not_now  # type: ignore[assignment]
        readers, self.sessionmaker = self.sessionmaker, self._write_sessionmaker
        try:
            await SQLTrackerStore.save(self, tracker)
        finally:
            self.sessionmaker = readers
            del self.stream_events
