"""Rasa's Redis lock store, with its read-modify-write steps made atomic across replicas.

Rasa 3.6 keeps a conversation's ticket queue as one JSON value that each replica reads,
changes and writes back. Two replicas taking a ticket at the same moment can overwrite each
other: a ticket vanishes, the holder deletes the lock on finishing, and the waiting message
fails with "Could not acquire lock" (seen here: 1 in 600 racing messages answered 500).
Each of those steps here runs under a short Redis mutex of its own per conversation.
"""
from __future__ import annotations

from typing import Any, Text

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore

MUTEX_TIMEOUT_S = 5.0  # a step takes a few ms; a replica that dies holding the mutex frees it after this


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        # Rasa hands a lock store loaded by module path its whole endpoint config.
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

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
