"""A small TTL + LRU cache for composed answers.

Keyed on the normalised question, the domain scope, the index version and the
answer mode, so a re-index or a switch of LLM never serves a stale answer.
"""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Optional, TypeVar

V = TypeVar("V")


def normalise_question(text: str) -> str:
    text = re.sub(r"[^\w\s$%]", " ", (text or "").lower())
    return " ".join(text.split())


class TTLCache(Generic[V]):
    def __init__(self, ttl_s: float, max_items: int = 2048, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._clock = clock
        self._items: "OrderedDict[Hashable, tuple[float, V]]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Optional[V]:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] <= self._clock():
                if item is not None:
                    del self._items[key]
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[1]

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = (self._clock() + self.ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
