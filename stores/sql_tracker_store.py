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
and the journal mode is set once per file (core.database.prepare_sqlite), not on every
connection. A pooled connection also saves about 1.5 ms of a 33 ms turn.

Rasa streams a turn's events to the broker before writing them, so a failed write could
publish events that never happened. Here the new events are worked out first, written, and
only then published (stores.event_broker keeps them through a broker outage).

Rasa reads the whole session back and rebuilds the tracker on every message, and counts the
stored events before every save: a quarter of the server's CPU at 20 users
(bench/results/profile-20-users.md). Here the tracker a turn saved is kept in the process
(stores.tracker_cache): the next turn checks with one small query (the conversation's row
count and highest id) that no one else wrote since, and uses it; a save writes only the
events after those stored, without counting. Another replica's write (cluster: shared
database, Redis locks) changes the mark, and the tracker is read again.
TRACKER_CACHE_CONVERSATIONS (or the endpoint's `cache_conversations`) bounds how many
conversations are kept; 0 turns the cache off.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, Optional, Text, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, ensure_schema_exists
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from core.database import BUSY_TIMEOUT_S, prepare_sqlite
from core.settings import RasaServerSettings
from stores.tracker_cache import Kept, Mark, TrackerCache

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_FOR_S = 20.0  # well below the lock lifetime (30 s in the cluster)
# TRACKER_CACHE_CONVERSATIONS (core/settings.py, default 256): a 10-turn conversation is ~0.1 MB of
# events, so tens of MB at most
WRITE = "milea_write"  # execution option: this session's transactions write


def _no_driver_transactions(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN itself


def _begin(connection: Any) -> None:
    write = connection.get_execution_options().get(WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _session_cacheable(tracker: DialogueStateTracker) -> bool:
    """Whether a read would rebuild exactly `tracker`: reads keep the events from the latest
    SessionStarted's timestamp on, so an earlier session's events (or an earlier-stamped one)
    in the tracker would not come back."""
    starts = [e.timestamp for e in tracker.events if isinstance(e, SessionStarted)]
    if not starts:
        return True
    start = max(starts)
    return all(e.timestamp >= start for e in tracker.events)


class CheckedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_conversations: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if cache_conversations is None:
            cache_conversations = RasaServerSettings.from_env().tracker_cache_conversations
        self.cache = TrackerCache(cache_conversations)
        table = self.SQLEvent.__table__
        self._mark_query = sa.select(sa.func.count(table.c.id), sa.func.max(table.c.id)).where(
            table.c.sender_id == sa.bindparam("sender_id"))
        self._insert = table.insert()
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

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        # Kept trackers carry the old domain's slots: a new model's domain starts afresh.
        self._domain = domain or Domain.empty()
        if hasattr(self, "cache"):
            self.cache = TrackerCache(self.cache.size)

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

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[sa.orm.Session]:
        session = (self._write_sessionmaker if write else self.sessionmaker)()
        try:
            ensure_schema_exists(session)
            yield session
        finally:
            session.close()

    def _mark(self, session: sa.orm.Session, sender_id: Text) -> Mark:
        count, last = session.connection().execute(self._mark_query, {"sender_id": sender_id}).one()
        return int(count), last

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's tracker: the kept one if no one wrote since, else read."""
        try:
            return await self._retrying("read", lambda: self._read(sender_id))
        except Exception:
            self.cache.drop(sender_id)
            raise

    async def _read(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        kept = self.cache.candidate(sender_id)
        with self._session() as session:
            # The mark first: under READ COMMITTED a write landing between the two queries
            # then shows as a changed mark next time, never as a missed event.
            mark = self._mark(session, sender_id)
            if kept is not None and kept.mark == mark:
                return self.cache.lend(kept)
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).with_entities(
                self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not (self.domain and events):
            self.cache.drop(sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self.cache.keep(Kept(tracker, len(tracker.events), mark, lent=True))
        return tracker

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrying(
            "read", lambda: super(CheckedSQLTrackerStore, self).retrieve_full_tracker(conversation_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Write the new events, then publish them (never events that were not stored)."""
        try:
            written = await self._retrying("write", lambda: self._write(tracker))
        except Exception:
            self.cache.drop(tracker.sender_id)
            raise
        if written and self.event_broker is not None:
            await self._stream_new_events(self.event_broker, written, tracker.sender_id)

    async def _write(self, tracker: DialogueStateTracker) -> list[Event]:
        """Store the events after those already stored; keep the tracker for the next turn.

        Which events are new: for the tracker this store lent or kept, those after `stored`; for
        any other tracker Rasa's rule (the stored events of the session are its first ones).
        """
        sender_id = tracker.sender_id
        kept = self.cache.saving(tracker)
        with self._session(write=True) as session:  # SQLite: BEGIN IMMEDIATE
            if kept is not None:
                stored, (count, last) = kept.stored, kept.mark
            else:
                count, last = self._mark(session, sender_id)
                stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            new = list(itertools.islice(tracker.events, stored, None))
            connection = session.connection()  # Core, one compiled insert: a third of the ORM's cost
            for event in new:
                inserted = connection.execute(self._insert, self._row(sender_id, event)).inserted_primary_key[0]
                last = inserted if last is None else max(last, inserted)
            session.commit()
        if tracker.events and _session_cacheable(tracker):
            self.cache.keep(Kept(tracker, len(tracker.events), (count + len(new), last)))
        else:
            self.cache.drop(sender_id)
        return new

    @staticmethod
    def _row(sender_id: Text, event: Event) -> dict:
        """The columns Rasa's SQLTrackerStore.save writes for an event."""
        data = event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}
