"""Prometheus metrics of the whole assistant, served by the jobs process at GET /metrics.

Read from the stores every replica and action server writes, so one scrape covers them all:
  milea_turns_total{channel}                      visitor messages (from the tracker store)
  milea_turn_latency_seconds{channel}             message -> first reply (histogram)
  milea_fallbacks_total{channel,kind}             nlu_fallback intents, default-fallback actions
  milea_handoffs_total{channel}                   hand-offs to staff (action_handoff)
  milea_outbox_jobs{status}                       Commerce7 outbox depth by status
  milea_outbox_oldest_pending_age_seconds         how long the oldest undelivered job has waited
  milea_commerce7_errors_total{source}            failed Commerce7 calls of outbox deliveries and health probes
  milea_texts{kind,status}                        texts the winery starts (campaigns, Commerce7 events, opt-in
                                                  questions) by state: queued, sending, sent, delivered, failed, skipped
SMS replies Twilio did not take are counted by each Rasa replica (channels/ops.py).
Counters start at this process's start (the tracker store is read from there on), as Prometheus expects.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections import OrderedDict
from typing import Optional

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from core.service_settings import ServiceSettings
from core.database import Database
from core.settings import shared_settings

log = logging.getLogger("milea.metrics")
FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_default_fallback", "utter_default"}
HANDOFF_ACTIONS = {"action_handoff"}
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60)
MAX_SENDERS = 20_000  # conversations remembered for channel and pending-turn bookkeeping


class Metrics:
    """The registry and the incremental reader of the tracker store's events table."""

    def __init__(self, settings: ServiceSettings, registry: Optional[CollectorRegistry] = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.tracker = Database(dataclasses.replace(shared_settings(), data_dir=settings.data_dir).tracker_database)
        self.outbox = Database(settings.outbox_database)
        r = self.registry
        self.turns = Counter("milea_turns", "Visitor messages", ["channel"], registry=r)
        self.latency = Histogram("milea_turn_latency_seconds", "Visitor message to the first reply", ["channel"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.fallbacks = Counter("milea_fallbacks", "Messages the assistant did not understand", ["channel", "kind"],
                                 registry=r)
        self.handoffs = Counter("milea_handoffs", "Hand-offs to staff", ["channel"], registry=r)
        self.outbox_jobs = Gauge("milea_outbox_jobs", "Commerce7 outbox jobs by status", ["status"], registry=r)
        self.outbox_age = Gauge("milea_outbox_oldest_pending_age_seconds", "Age of the oldest undelivered job",
                                registry=r)
        self.c7_errors = Counter("milea_commerce7_errors", "Failed Commerce7 calls", ["source"], registry=r)
        self.sms = Database(dataclasses.replace(shared_settings(), data_dir=settings.data_dir).sms_database)
        self.texts = Gauge("milea_texts", "Texts the winery starts, by kind and state", ["kind", "status"], registry=r)
        self.watermark: Optional[int] = None
        self.channel_of: "OrderedDict[str, str]" = OrderedDict()
        self.waiting: "OrderedDict[str, tuple[float, str]]" = OrderedDict()

    # ---- tracker store
    def _remember(self, table: OrderedDict, key: str, value) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > MAX_SENDERS:
            table.popitem(last=False)

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.tracker.connection(write=False) as db:  # a read: no write lock
            cursor = db.cursor()
            cursor.execute(self.tracker.sql(sql), params)
            return cursor.fetchall()

    def read_events(self) -> None:
        """Count the events written since the last scrape (the first call only sets the starting point)."""
        try:
            if self.watermark is None:
                self.watermark = self._rows("SELECT COALESCE(MAX(id), 0) FROM events")[0][0]
                return
            rows = self._rows("SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
                              "WHERE id > ? ORDER BY id LIMIT 20000", (self.watermark,))
        except Exception as error:  # no events table yet (nobody has talked), or the database is down
            log.debug("metrics: events not readable (%s)", type(error).__name__)
            return
        for event_id, sender, kind, at, intent, action, data in rows:
            self.watermark = event_id
            if kind == "user":
                channel = (_json(data).get("input_channel") or "unknown")[:32]
                self._remember(self.channel_of, sender, channel)
                self._remember(self.waiting, sender, (at, channel))
                self.turns.labels(channel).inc()
                if intent in FALLBACK_INTENTS:
                    self.fallbacks.labels(channel, "nlu").inc()
                continue
            channel = self.channel_of.get(sender, "unknown")
            if kind == "bot" and sender in self.waiting:
                asked, channel = self.waiting.pop(sender)
                self.latency.labels(channel).observe(max(0.0, at - asked))
            elif kind == "action" and action in FALLBACK_ACTIONS:
                self.fallbacks.labels(channel, "action").inc()
            elif kind == "action" and action in HANDOFF_ACTIONS:
                self.handoffs.labels(channel).inc()

    # ---- outbox
    def read_outbox(self) -> None:
        try:
            with self.outbox.connection(write=False) as db:
                cursor = db.cursor()
                cursor.execute("SELECT status, COUNT(*), MIN(created_at) FROM outbox GROUP BY status")
                rows = cursor.fetchall()
        except Exception as error:  # no outbox table yet: nothing queued
            log.debug("metrics: outbox not readable (%s)", type(error).__name__)
            rows = []
        by_status = {status: (count, oldest) for status, count, oldest in rows}
        for status in ("pending", "done", "attention", *by_status):
            self.outbox_jobs.labels(status).set(by_status.get(status, (0, None))[0])
        oldest = by_status.get("pending", (0, None))[1]
        self.outbox_age.set(max(0.0, time.time() - oldest) if oldest else 0.0)

    def read_texts(self) -> None:
        try:
            with self.sms.connection(write=False) as db:
                cursor = db.cursor()
                cursor.execute("SELECT kind, status, COUNT(*) FROM sms_outgoing GROUP BY kind, status")
                rows = cursor.fetchall()
        except Exception as error:  # no table yet: nothing sent
            log.debug("metrics: texts not readable (%s)", type(error).__name__)
            rows = []
        for kind, status, count in rows:
            self.texts.labels(kind, status).set(count)

    def scrape(self) -> bytes:
        self.read_events()
        self.read_outbox()
        self.read_texts()
        return generate_latest(self.registry)


def _json(data: Optional[str]) -> dict:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


_metrics: Optional[Metrics] = None


def get(settings: Optional[ServiceSettings] = None) -> Metrics:
    """The process's one Metrics (the jobs process counts its Commerce7 errors into it)."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics(settings or ServiceSettings.from_env())
    return _metrics


def aiohttp_view(settings: ServiceSettings):
    """An aiohttp handler for GET /metrics."""
    import asyncio

    from aiohttp import web

    metrics = get(settings)
    metrics.read_events()  # the starting point: counters count from now on

    async def view(_request: "web.Request") -> "web.Response":
        body = await asyncio.to_thread(metrics.scrape)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return view
