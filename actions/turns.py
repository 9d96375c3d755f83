"""Which customer turn an action call belongs to, so that a replayed call writes nothing twice.

nginx sends an action call again when the action server it went to died mid-call; Rasa
also retries. Both carry the same tracker, hence the same latest user message: its
message_id (a uuid Rasa gives every user message), else its event timestamp.
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker


def turn_key(tracker: Tracker) -> Optional[str]:
    """'<message_id>' of the latest user message, 't<timestamp>' without one; None before any message.

    Args:
        tracker: the tracker the action server was called with.
    Returns:
        a key stable across replays of the same call, different for every customer turn.
    """
    latest: Any = tracker.latest_message or {}
    message_id = latest.get("message_id") if isinstance(latest, dict) else None
    if isinstance(message_id, str) and message_id.strip():
        return message_id.strip()[:200]
    for event in reversed(tracker.events or []):
        if isinstance(event, dict) and event.get("event") == "user":
            if isinstance(event.get("message_id"), str) and event["message_id"].strip():
                return event["message_id"].strip()[:200]
            if event.get("timestamp") is not None:
                return f"t{event['timestamp']}"
    return None
