"""socket.io rooms shared by every Rasa replica through Redis (REDIS_URL), so that any replica
can reach a visitor whose connection another replica holds (a staff reply sent through the
console lands on whichever replica it calls).

python-socketio's AsyncRedisManager publishes every emit on a Redis channel and each server
delivers it to the members it holds. What this changes in it:
- the replica that emits delivers to its own members at once and only publishes for the
  others (skipping its own message when it comes back): the assistant's answers to a visitor
  connected here never wait for, or depend on, Redis;
- messages travel as JSON, not the library's pickle: whoever can publish on the Redis channel
  cannot make a replica run code by unpickling (a message that is not a JSON object is dropped);
- while Redis is unreachable, publishing is skipped for a few seconds after each failure (the
  library tried to connect twice on every emit) and the listener waits between reconnections
  (the library retried its first subscribe in a tight loop, printing a traceback each time).
Without REDIS_URL (`make run`, one process) the server keeps its in-process manager.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, AsyncIterator, Optional

from redis.exceptions import RedisError
from socketio import AsyncManager, AsyncRedisManager

from core.settings import SharedSettings

log = logging.getLogger(__name__)
CHANNEL = "milea-socketio"  # the Redis pub/sub channel every replica listens on
RECONNECT_MAX_S = 10.0
PUBLISH_PAUSE_S = 5.0  # after a failed publish, emits stay local this long


class SharedRooms(AsyncRedisManager):
    """Rooms of every replica: local members get an emit directly, the others through Redis."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 2})
        self._publish_paused_until = 0.0

    async def emit(self, event: str, data: Any, namespace: Optional[str] = None, room: Optional[str] = None,
                   skip_sid: Any = None, callback: Any = None, **kwargs: Any) -> None:
        if kwargs.get("ignore_queue") or callback is not None:
            return await super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                                      callback=callback, **kwargs)
        await AsyncManager.emit(self, event, data, namespace or "/", room=room, skip_sid=skip_sid)
        await super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid)

    async def _publish(self, data: dict) -> None:
        if time.monotonic() < self._publish_paused_until:
            return
        try:
            text = json.dumps(data)
        except (TypeError, ValueError):  # socket.io can carry bytes; our channels never send them
            log.warning("socket.io rooms: an emit that is not JSON stays on this replica")
            return
        try:
            await self.redis.publish(self.channel, text)
        except (RedisError, OSError) as exc:
            self._publish_paused_until = time.monotonic() + PUBLISH_PAUSE_S
            log.warning("socket.io rooms: cannot publish to Redis (%s); other replicas' visitors miss "
                        "this message", type(exc).__name__)

    async def _handle_emit(self, message: dict) -> None:
        if message.get("host_id") == self.host_id and message.get("callback") is None:
            return  # emitted here: the local members already have it
        await super()._handle_emit(message)

    async def _listen(self) -> AsyncIterator[dict]:
        """Each message as a dict (the library's listener takes dicts as they are, never unpickling)."""
        channel, delay = self.channel.encode(), 0.5
        while True:
            try:
                await self.pubsub.subscribe(self.channel)
                delay = 0.5
                async for message in self.pubsub.listen():
                    if message.get("type") == "message" and message.get("channel") == channel:
                        decoded = _json_object(message.get("data"))
                        if decoded is not None:
                            yield decoded
            except (RedisError, OSError) as exc:
                log.warning("socket.io rooms: Redis unreachable (%s); visitors on other replicas miss "
                            "messages until it is back, retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
                await self._reset_pubsub()

    async def _reset_pubsub(self) -> None:
        try:
            await self.pubsub.reset()
        except (RedisError, OSError):
            pass
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)


def _json_object(data: Any) -> Optional[dict]:
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError, RecursionError):
        decoded = None
    if not isinstance(decoded, dict):
        log.warning("socket.io rooms: dropped a message on the Redis channel that is not a JSON object")
        return None
    return decoded


def client_manager(environ: Optional[dict] = None) -> Optional[SharedRooms]:
    """SharedRooms on REDIS_URL, or None (the server's in-process manager) without it."""
    url = SharedSettings.from_env(environ).redis_url
    return SharedRooms(url) if url else None
