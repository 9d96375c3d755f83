"""What an operator asks a Rasa replica (internal; the proxy does not publish /webhooks/ops/):

  GET /webhooks/ops/health     the replica's dependencies (tracker database, Redis, RabbitMQ, action
                               servers) with status and latency (jobs/health.py); 503 when down
  GET /webhooks/ops/metrics    Prometheus text:

  milea_sms_failures_total          SMS replies Twilio did not take after the channel's retries
  milea_sms_retries_total           SMS sends that were retried

The SMS channel (channels/twilio.py) reports a failed send in its log, with the number masked;
a handler on that logger counts those records, so the channel needs no metrics code. The rest of
the assistant's metrics are read from the stores by the jobs process (jobs/metrics.py).
scripts/serve_rasa.py adds this channel to the credentials it writes; deploy/nginx.conf.template
keeps /webhooks/ops/ internal.
"""
from __future__ import annotations

import logging
import socket
from typing import Any, Awaitable, Callable, Optional

from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from core.settings import shared_settings

SMS_FAILURES = Counter("milea_sms_failures", "SMS replies that were not sent")
SMS_RETRIES = Counter("milea_sms_retries", "SMS sends retried after a Twilio or network error")
SMS_LOGGER = "channels.twilio"


class SmsLogCounter(logging.Handler):
    """Counts the SMS channel's 'not sent' and 'retrying' records."""

    def emit(self, record: logging.LogRecord) -> None:
        text = str(record.msg)
        if text.startswith("SMS to ") and "not sent" in text:
            SMS_FAILURES.inc()
        elif text.startswith("SMS to ") and "retrying" in text:
            SMS_RETRIES.inc()


def install() -> None:
    logger = logging.getLogger(SMS_LOGGER)
    if not any(isinstance(h, SmsLogCounter) for h in logger.handlers):
        logger.addHandler(SmsLogCounter(level=logging.WARNING))


class OpsInput(InputChannel):
    """Not a conversation channel: the replica's health and metrics."""

    @classmethod
    def name(cls) -> str:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> "OpsInput":
        install()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = Blueprint("milea_ops", __name__)

        @ops.route("/metrics", methods=["GET"])
        async def scrape(_request: Request) -> response.HTTPResponse:
            return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

        @ops.route("/health", methods=["GET"])
        async def health(_request: Request) -> response.HTTPResponse:
            from jobs import health as dependencies

            result = await dependencies.report(names=dependencies.REPLICA)
            result["service"] = shared_settings().service or socket.gethostname()
            return response.json(result, status=503 if result["status"] == "down" else 200)

        return ops
