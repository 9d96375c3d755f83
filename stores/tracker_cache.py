"""The conversations this Rasa process served last: their trackers, and what the database held.

Rasa reads a conversation's whole session back and rebuilds the tracker on every message, and
counts the stored events before every save. Here the tracker a turn saved is kept, with
`stored` (how many of its events are in the database) and `mark` (the conversation's row count
and highest event id just after this process's own write). The next turn checks the mark
with one small query: unchanged means no one else (another replica sharing the database)
wrote since, so the kept tracker is exactly what a read would rebuild.

A kept tracker is lent to one caller at a time: a second retrieve before the first caller
saves (a failed turn that never saved, or a reader outside the conversation's lock) gets a
fresh read instead, so no two callers ever share, and mutate, one tracker object.

Bounded: the least recently used conversations are dropped beyond `size` (0 keeps none).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional, Text

from rasa.shared.core.trackers import DialogueStateTracker

Mark = tuple[int, Optional[int]]  # (rows of the conversation, highest event id)


@dataclass
class Kept:
    tracker: DialogueStateTracker
    stored: int  # tracker.events[:stored] are the conversation's rows of the latest session
    mark: Mark
    lent: bool = False


class TrackerCache:
    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._kept: "OrderedDict[Text, Kept]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def candidate(self, sender_id: Text) -> Optional[Kept]:
        """The kept tracker if it may still be current (the caller checks the mark), else None."""
        kept = self._kept.get(sender_id)
        if kept is None or kept.lent or len(kept.tracker.events) != kept.stored:
            return None  # lent out, or changed since its save by a turn that never saved
        return kept

    def lend(self, kept: Kept) -> DialogueStateTracker:
        kept.lent = True
        self._kept.move_to_end(kept.tracker.sender_id)
        return kept.tracker

    def saving(self, tracker: DialogueStateTracker) -> Optional[Kept]:
        """What is known about `tracker`'s stored events, if it is the one this cache lent or kept."""
        kept = self._kept.get(tracker.sender_id)
        if kept is None or kept.tracker is not tracker or len(tracker.events) < kept.stored:
            return None
        return kept

    def keep(self, kept: Kept) -> None:
        sender_id = kept.tracker.sender_id
        self._kept.pop(sender_id, None)
        if self.size == 0:
            return
        self._kept[sender_id] = kept
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def drop(self, sender_id: Text) -> None:
        self._kept.pop(sender_id, None)
