"""Background jobs while `make run` is up: deliver the Commerce7 outbox every
30 seconds, sync the catalog daily at 02:00 America/New_York, and delete conversations
and personal data older than RETENTION_DAYS (default 365) daily at 03:00. With Twilio
configured it also sends campaigns and Commerce7 event texts (jobs/texting.py).

With JOBS_PORT set (the production profile) it also serves GET /health (its dependencies
with status and latency) and GET /metrics (Prometheus) on that port."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
from datetime import datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from core.commerce7.connection import make_client
from core.commerce7.outbox import Outbox
from core.commerce7.signup import process_outbox
from core.commerce7.sync import sync_catalog
from core.service_settings import ServiceSettings
from jobs.settings import JobsSettings

log = logging.getLogger("scheduler")
NY = ZoneInfo("America/New_York")
SYNC_AT = time(2, 0)
RETENTION_AT = time(3, 0)


def next_sync(now: datetime, at: time = SYNC_AT, tz: ZoneInfo = NY) -> datetime:
    """The next daily run after `now`, at local wall-clock time `at` (DST-aware)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate


async def run_outbox(settings: ServiceSettings, outbox: Outbox) -> None:
    async with make_client(settings) as client:
        counts = await process_outbox(outbox, client, settings.c7_pickup_location_id)
    failed = counts.get("retry", 0) + counts.get("attention", 0)
    if failed and JobsSettings.from_env().port:  # counted for /metrics
        from jobs import metrics
        metrics.get(settings).c7_errors.labels("outbox").inc(failed)
    if any(counts.values()):
        log.info("outbox: %s", counts)


async def run_sync(settings: ServiceSettings) -> None:
    async with make_client(settings) as client:
        try:
            report = await sync_catalog(client, settings)
        except Exception as exc:  # a failed sync keeps yesterday's knowledge; try again tomorrow
            log.error("catalog sync failed (%s): knowledge unchanged", type(exc).__name__)
            return
    log.info(report.summary())


async def serve_status(port: int, settings: ServiceSettings, host: str = "127.0.0.1"):
    """GET /health and /metrics on `port` (loopback unless JOBS_HOST=0.0.0.0, e.g. for a Prometheus in another
    container); returns the runner."""
    from aiohttp import web

    from jobs import health, metrics

    async def health_view(_request: web.Request) -> web.Response:
        report = await health.report(settings)
        if report["dependencies"]["commerce7"]["status"] == "down":
            metrics.get(settings).c7_errors.labels("health").inc()
        return web.json_response(report, status=200 if report["status"] != "down" else 503)

    app = web.Application()
    app.router.add_get("/health", health_view)
    app.router.add_get("/metrics", metrics.aiohttp_view(settings))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health on :%d/health, metrics on :%d/metrics", port, port)
    return runner


async def run_retention() -> None:
    from jobs import datacare

    try:
        days = datacare.retention_days()
        removed = await asyncio.to_thread(datacare.retention, ServiceSettings.from_env(), days)
    except (Exception, SystemExit) as exc:  # tomorrow's pass tries again; the reason is logged
        log.error("retention pass failed: %s", exc if isinstance(exc, SystemExit) else type(exc).__name__)
        return
    log.info("retention %g days: %s", days, ", ".join(f"{n} {kind}" for kind, n in removed.items()))


async def main(stop: Optional[asyncio.Event] = None) -> None:
    settings = ServiceSettings.from_env()
    outbox = Outbox(settings.outbox_database)
    stop = stop or asyncio.Event()
    jobs = JobsSettings.from_env()
    runner = await serve_status(jobs.port, settings, jobs.host) if jobs.port else None
    from jobs import texting

    texts = texting.start(stop, settings)
    due = next_sync(datetime.now(NY))
    cleanup = next_sync(datetime.now(NY), RETENTION_AT)
    log.info("outbox every %.0fs; next catalog sync %s; next retention pass %s", jobs.outbox_every_s, due.isoformat(),
             cleanup.isoformat())
    while not stop.is_set():
        try:
            await run_outbox(settings, outbox)
        except Exception:
            log.exception("outbox pass failed")
        if datetime.now(NY) >= due:
            await run_sync(settings)
            due = next_sync(datetime.now(NY))
        if datetime.now(NY) >= cleanup:
            await run_retention()
            cleanup = next_sync(datetime.now(NY), RETENTION_AT)
        try:
            await asyncio.wait_for(stop.wait(), jobs.outbox_every_s)
        except asyncio.TimeoutError:
            pass
    if texts:
        await texts
    if runner:
        await runner.cleanup()


def cli() -> None:
    from core.jsonlog import setup

    setup()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(main(stop))


if __name__ == "__main__":
    cli()
    sys.exit(0)
