"""Rasa's RabbitMQ event broker, with outages that are seen and recovered instead of silent.

Rasa 3.6's PikaEventBroker publishes each event in a fire-and-forget task: a failure is
logged at debug level, events published before the first connection are dropped, and a
broker that is down when Rasa starts stops Rasa from starting. Here:
- events wait in one ordered queue and are published one at a time with RabbitMQ's publisher
  confirm; one leaves the queue only when RabbitMQ took it, so an outage delays events and
  loses none (the queue lives in the Rasa process: MAX_PENDING events at most, logged if
  ever exceeded);
- a broker down at start does not stop Rasa: it connects in the background and publishes
  what waited;
- an outage is an ERROR log line when it starts, a warning every minute while it lasts,
  a line when it ends, and a status file per Rasa process that a health check reads:
  `python -m stores.broker_health <status_dir>` prints the state and exits 1 while any
  process has the broker down.
The tracker store (stores.sql_tracker_store) hands events over only after they are stored.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any, Deque, Dict, Optional, Text

from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from core.settings import shared_settings
from stores.broker_health import status_file

log = logging.getLogger(__name__)
MAX_PENDING = 200_000
RETRY_S = 1.0
PUBLISH_TIMEOUT_S = 10.0
REMIND_EVERY_S = 60.0


class CheckedPikaEventBroker(PikaEventBroker):
    def __init__(self, host: Text, username: Text, password: Text, status_dir: Optional[str] = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("connection_attempts", 1)  # the background loop keeps trying instead
        kwargs.setdefault("retry_delay_in_seconds", RETRY_S)
        super().__init__(host, username, password, **kwargs)
        self._pending: Deque[Dict[Text, Any]] = deque()
        self._dropped = 0
        self._worker: Optional[asyncio.Task] = None
        self._connector: Optional[asyncio.Task] = None
        self._state, self._since, self._reason, self._reminded = "connecting", time.time(), "", 0.0
        self._published = 0
        folder = status_dir or shared_settings().data_dir / "health"
        self.status_path = status_file(Path(folder), os.getpid())

    @classmethod
    async def from_endpoint_config(cls, broker_config: Optional[EndpointConfig],
                                   event_loop: Optional[asyncio.AbstractEventLoop] = None
                                   ) -> Optional["CheckedPikaEventBroker"]:
        if broker_config is None:
            return None
        broker = cls(broker_config.url, **broker_config.kwargs, event_loop=event_loop)
        try:
            await broker.connect()
            broker._set_state("up")
        except Exception as exc:  # any connection failure: keep trying in the background
            broker._set_state("down", type(exc).__name__)
            broker._connector = broker._loop.create_task(broker._connect_until_up())
        return broker

    # ---- status
    def status(self) -> Dict[str, Any]:
        return {"status": self._state, "since": self._since, "reason": self._reason, "pending": len(self._pending),
                "published": self._published, "dropped": self._dropped, "pid": os.getpid(),
                "queues": list(self.queues)}

    def _set_state(self, state: str, reason: str = "") -> None:
        changed = state != self._state
        if changed:
            if state == "down":
                log.error("event broker: RabbitMQ %s:%s unreachable (%s): conversation events are kept and "
                          "published when it is back", self.host, self.port, reason)
            elif state == "up" and self._state == "down":
                log.warning("event broker: RabbitMQ is back after %.0f s; publishing %d kept events",
                            time.time() - self._since, len(self._pending))
            self._state, self._since, self._reminded = state, time.time(), time.monotonic()
        self._reason = reason
        if state == "down" and time.monotonic() - self._reminded > REMIND_EVERY_S:
            self._reminded = time.monotonic()
            log.warning("event broker: RabbitMQ still unreachable (%s), %d events waiting", reason,
                        len(self._pending))
        if changed or state == "down":
            self._write_status()

    def _write_status(self) -> None:
        try:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.status_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.status()))
            temporary.replace(self.status_path)
        except OSError as exc:
            log.debug("event broker status not written: %s", exc)

    # ---- publishing
    def publish(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]] = None) -> None:
        """Queue `event`; it is published in order once RabbitMQ confirms the ones before it."""
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self._dropped += 1
            log.error("event broker: more than %d events waiting for RabbitMQ: the oldest was dropped "
                      "(%d so far)", MAX_PENDING, self._dropped)
        self._pending.append(event)
        if self._worker is None or self._worker.done():
            self._worker = self._loop.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            if self._exchange is None or not self.is_ready():
                self._set_state("down", self._reason or "not connected")
                await asyncio.sleep(RETRY_S)
                continue
            try:
                await asyncio.wait_for(self._exchange.publish(self._message(self._pending[0], None), ""),
                                       PUBLISH_TIMEOUT_S)
            except Exception as exc:  # any failure: keep the event, try again
                self._set_state("down", type(exc).__name__)
                await asyncio.sleep(RETRY_S)
                continue
            self._pending.popleft()
            self._published += 1
            if self._state != "up":
                self._set_state("up")
        self._write_status()

    async def _connect_until_up(self) -> None:
        while self._exchange is None:
            await asyncio.sleep(RETRY_S)
            try:
                await self.connect()
            except Exception as exc:
                self._set_state("down", type(exc).__name__)
                continue
        self._set_state("up")
        if self._pending and (self._worker is None or self._worker.done()):
            self._worker = self._loop.create_task(self._drain())

    async def close(self) -> None:
        """Publish what waits (a few seconds at most), then close."""
        deadline = time.monotonic() + 5.0
        while self._pending and self.is_ready() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._pending:
            log.error("event broker: %d events not published at shutdown", len(self._pending))
        for task in (self._worker, self._connector):
            if task is not None and not task.done():
                task.cancel()
        try:
            self.status_path.unlink()
        except OSError:
            pass
        await super().close()
