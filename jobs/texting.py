"""The jobs process's texting task: campaigns, Commerce7 event texts and the outgoing SMS queue
(core/texting/sender.py), on when Twilio is configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER)."""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Optional

from core.commerce7.connection import make_client
from core.consent import ConsentLedger
from core.outreach import OutreachStore
from core.service_settings import ServiceSettings
from core.settings import shared_settings
from core.texting.sender import Sender
from core.texting.settings import TextingSettings
from core.texting.thread import ThreadNotes
from core.texting.twilio_rest import TwilioRest

log = logging.getLogger("scheduler")


def start(stop: asyncio.Event, service: ServiceSettings) -> Optional["asyncio.Task[None]"]:
    """The texting task, or None (with a line saying why) when Twilio is not configured."""
    try:
        settings = TextingSettings.from_env()
    except ValueError as exc:  # a typo in CAMPAIGN_*: say which, do not start half-configured
        raise SystemExit(f"texting settings: {exc}") from None
    # httpx logs each request's URL at INFO: numbers and the Rasa token would land in the logs
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not settings.enabled:
        log.info("texting: off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER for campaigns and "
                 "Commerce7 event texts)")
        return None
    database = shared_settings().sms_database
    rest = TwilioRest(settings.account_sid, settings.auth_token, settings.from_number, settings.api_base_url,
                      settings.status_callback_url)
    rasa_url, token = os.environ.get("RASA_URL", "").strip(), os.environ.get("RASA_AUTH_TOKEN", "").strip()
    threads = ThreadNotes(rasa_url, token) if rasa_url and token else None
    sender = Sender(settings, OutreachStore(database), ConsentLedger(database), rest,
                    lambda: make_client(service), threads)

    async def run() -> None:
        try:
            await sender.run(stop)
        finally:
            await rest.aclose()
            if threads:
                await threads.aclose()

    return asyncio.ensure_future(run())
