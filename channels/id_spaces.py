"""Which channel a conversation belongs to: the one its customer wrote through.

A REST caller names its conversation, and an SMS conversation's id is the customer's phone number,
so without this check a stranger who knows a phone number could open a REST conversation under it:
write into the SMS customer's thread, see their form's read-back, inherit their verified state and
get the staff replies meant for them. REST asks `held_elsewhere` before it lets a caller into an id
it named; the channel it was written through keeps it. The web chat's ids are issued by the server
(channels/widget_sessions.py) and checked against the channels that wrote to them too.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Optional

log = logging.getLogger(__name__)
REST_SPACE = "rest:"  # REST's own conversations when the id the caller names belongs elsewhere
# an SMS conversation's id is the customer's number as Twilio sends it (E.164: "+" and digits); a
# bare number stays an ordinary REST sender (integrations use numeric user ids)
_PHONE_LIKE = re.compile(r"^\+\d{6,15}$")


class RestSpace:
    """The conversation a REST caller's `sender` maps to. Rasa's contract stays (the caller names its
    sender and gets its replies under that name) inside REST's own space: a sender that is a phone
    number or belongs to a web or SMS conversation is kept under "rest:<sender>", never reaching it.
    Decisions are remembered (a conversation's owner never changes): one tracker read per sender."""

    def __init__(self, size: int = 20_000) -> None:
        self._known: dict[str, str] = {}
        self._size = size

    async def conversation(self, agent: Any, sender: str) -> str:
        known = self._known.get(sender)
        if known is not None:
            return known
        if sender.startswith(REST_SPACE):
            mapped = sender
        elif _PHONE_LIKE.match(sender) or await held_elsewhere(agent, sender, "rest"):
            mapped = REST_SPACE + sender
        else:
            mapped = sender
        if len(self._known) >= self._size:
            self._known.clear()
        self._known[sender] = mapped
        return mapped


async def held_elsewhere(agent: Any, sender_id: str, channel: str) -> bool:
    """Whether the conversation `sender_id` has customer messages from a channel other than `channel`
    (True too when the tracker store cannot be read: a new id is always safe)."""
    written = await channels_written(agent, sender_id)
    return written is None or bool(written - {channel})


async def channels_written(agent: Any, sender_id: str) -> Optional[set[str]]:
    """The channels the customer of `sender_id` wrote through (empty for a new conversation), or
    None when the tracker store cannot be read."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        tracker = await store.retrieve(sender_id)
    except Exception as exc:  # the store down: the client gets a conversation of its own
        log.warning("conversation owner not known (%s): a new conversation is opened", type(exc).__name__)
        return None
    if tracker is None:
        return set()
    return {event.input_channel for event in tracker.events
            if getattr(event, "type_name", "") == "user" and getattr(event, "input_channel", None)}


def owner(events: Any) -> Optional[str]:
    """The channel the conversation's customer wrote through first (None before they wrote)."""
    for event in events or ():
        if getattr(event, "type_name", "") == "user" and getattr(event, "input_channel", None):
            return event.input_channel
    return None

