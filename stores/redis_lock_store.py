"""Rasa's Redis lock store, with atomic steps across replicas and tickets kept alive by their holder.

Atomic steps: Rasa 3.6 keeps a conversation's ticket queue as one JSON value that each replica
reads, changes and writes back. Two replicas taking a ticket at the same moment can overwrite
each other: a ticket vanishes, the holder deletes the lock on finishing, and the waiting message
fails with "Could not acquire lock" (seen here: 1 in 600 racing messages answered 500). Each of
those steps here runs under a short Redis mutex of its own per conversation.

Leases: Rasa gives every ticket one fixed lifetime (TICKET_LOCK_LIFETIME, default 60 s). A replica
that dies mid-turn leaves its ticket behind, and every later message of that conversation waits
for it to run out, on whichever replica it lands; a shorter lifetime would instead let a second
turn start while a slow live one is still running. Here a ticket is issued for a short lease
(TICKET_LEASE_S, default 5 s) and a thread of the process holding it renews it while the process
lives, up to TICKET_LOCK_LIFETIME after it was issued (Rasa's own ceiling, so a wedged replica
still cannot keep a conversation forever). A dead replica's tickets run out within one lease.
The thread is independent of the event loop, so a turn that blocks the loop keeps its ticket.
Expiry times are wall-clock: replicas on several hosts need synchronised clocks (NTP).
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore

from core.settings import RasaServerSettings

logger = logging.getLogger(__name__)

MUTEX_TIMEOUT_S = 5.0  # a step takes a few ms; a replica that dies holding the mutex frees it after this
RENEWALS_PER_LEASE = 4  # a renewal may be late by three quarters of a lease before the ticket runs out


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Any = None, lease_s: Optional[float] = None, **kwargs: Any) -> None:
        # Rasa hands a lock store loaded by module path its whole endpoint config.
        if lease_s is None:
            lease_s = RasaServerSettings.from_env().ticket_lease_s
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
            lease_s = float(kwargs.pop("lease_s", lease_s))
        super().__init__(**kwargs)
        self.lease_s = lease_s
        self._held: dict[tuple[str, int], float] = {}  # (conversation, ticket) -> renew until (epoch s)
        self._held_guard = threading.Lock()
        self._keeper: Optional[threading.Thread] = None

    def _mutex(self, conversation_id: Text) -> Any:
        return self.red.lock(f"{self.key_prefix}mutex:{conversation_id}", timeout=MUTEX_TIMEOUT_S,
                             blocking_timeout=MUTEX_TIMEOUT_S)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ticket lock, with a ticket that lives one lease past its holder's last renewal.

        Args:
            conversation_id: the conversation whose turns take turns.
            lock_lifetime: the longest the ticket is kept alive, counted from its issue.
            wait_time_in_seconds: pause between looks at the queue while waiting.
        """
        ticket = self.issue_ticket(conversation_id, min(self.lease_s, lock_lifetime))
        self._hold(conversation_id, ticket, time.time() + lock_lifetime)
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            with self._held_guard:
                self._held.pop((conversation_id, ticket), None)
            self.cleanup(conversation_id, ticket)

    def _hold(self, conversation_id: Text, ticket: int, until: float) -> None:
        with self._held_guard:
            self._held[(conversation_id, ticket)] = until
            if self._keeper is None:
                self._keeper = threading.Thread(target=self._keep_alive, name="ticket-leases", daemon=True)
                self._keeper.start()

    def _keep_alive(self) -> None:
        """Renews the held tickets every fraction of a lease; ends when none is held."""
        while True:
            time.sleep(self.lease_s / RENEWALS_PER_LEASE)
            with self._held_guard:
                if not self._held:
                    self._keeper = None
                    return
                held = dict(self._held)
            self.renew(held)

    def renew(self, held: dict[tuple[str, int], float]) -> None:
        """Pushes each held ticket's expiry one lease ahead, never past its ceiling.

        Args:
            held: (conversation, ticket number) -> the latest time the ticket may live until.
        """
        now = time.time()
        by_conversation: dict[str, dict[int, float]] = {}
        for (conversation_id, number), until in held.items():
            if until > now:
                by_conversation.setdefault(conversation_id, {})[number] = min(now + self.lease_s, until)
        for conversation_id, expiries in by_conversation.items():
            try:
                with self._mutex(conversation_id):
                    lock = self.get_lock(conversation_id)
                    alive = [t for t in (lock.tickets if lock else ()) if t.number in expiries and not t.has_expired()]
                    for ticket in alive:
                        ticket.expires = max(ticket.expires, expiries[ticket.number])
                    if alive:
                        self.save_lock(lock)
                lost = {n for n in expiries if n not in {t.number for t in alive}}
                with self._held_guard:  # a ticket released since the snapshot is not lost
                    lost = {n for n in lost if (conversation_id, n) in self._held}
                if lost:  # the process stalled for longer than a lease: another turn may have started
                    logger.warning("A conversation's lock ticket ran out before it was renewed")
            except Exception:  # Redis away for a moment: the next renewal tries again
                logger.warning("Could not renew a conversation's lock tickets", exc_info=True)
