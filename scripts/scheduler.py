"""Background jobs while `make run` is up: deliver the Commerce7 outbox every
30 seconds, and sync the catalog daily at 02:00 America/New_York."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from actions.commerce7.connection import make_client
from actions.commerce7.outbox import Outbox
from actions.commerce7.signup import process_outbox
from actions.commerce7.sync import sync_catalog
from actions.settings import Settings

log = logging.getLogger("scheduler")
NY = ZoneInfo("America/New_York")
SYNC_AT = time(2, 0)
OUTBOX_EVERY_S = float(os.environ.get("MILEA_OUTBOX_EVERY_S") or 30.0)


def next_sync(now: datetime, at: time = SYNC_AT, tz: ZoneInfo = NY) -> datetime:
    """The next daily run after `now`, at local wall-clock time `at` (DST-aware)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate


async def run_outbox(settings: Settings, outbox: Outbox) -> None:
    async with make_client(settings) as client:
        counts = await process_outbox(outbox, client, settings.c7_pickup_location_id)
    if any(counts.values()):
        log.info("outbox: %s", counts)


async def run_sync(settings: Settings) -> None:
    async with make_client(settings) as client:
        try:
            report = await sync_catalog(client, settings)
        except Exception as exc:  # a failed sync keeps yesterday's knowledge; try again tomorrow
            log.error("catalog sync failed (%s): knowledge unchanged", type(exc).__name__)
            return
    log.info(report.summary())


async def main(stop: Optional[asyncio.Event] = None) -> None:
    settings = Settings.from_env()
    outbox = Outbox(settings.outbox_database)
    stop = stop or asyncio.Event()
    due = next_sync(datetime.now(NY))
    log.info("outbox every %.0fs; next catalog sync %s", OUTBOX_EVERY_S, due.isoformat())
    while not stop.is_set():
        try:
            await run_outbox(settings, outbox)
        except Exception:
            log.exception("outbox pass failed")
        if datetime.now(NY) >= due:
            await run_sync(settings)
            due = next_sync(datetime.now(NY))
        try:
            await asyncio.wait_for(stop.wait(), OUTBOX_EVERY_S)
        except asyncio.TimeoutError:
            pass


def cli() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(main(stop))


if __name__ == "__main__":
    cli()
    sys.exit(0)
