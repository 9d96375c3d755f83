"""Staff replies, sent through the customer's own channel: the one sending piece for staff.

POST /webhooks/staff/send {sender_id, channel, text, staff} with header X-Staff-Secret, from
loopback only (STAFF_CHANNEL_REMOTE=1 allows other hosts, e.g. a console container). The text
goes out with the output of the channel the customer wrote through (the widget over socket.io,
SMS through Twilio; `channel` is only used while the customer has not written yet) and is
recorded in the conversation as a bot message with metadata {"staff": name}.

Answers: 200 sent; 400 bad request; 403 wrong secret or not loopback; 404 unknown conversation
or channel; 409 the customer cannot be reached there (SMS opt-out, REST has no push);
413 too long for an SMS; 502 the channel failed to send.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import sms_text
from channels.id_spaces import owner
from core.settings import RasaServerSettings

log = logging.getLogger(__name__)
MAX_TEXT = sms_text.MAX_SMS_CHARS


class Undeliverable(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _error(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip.split("%")[0]).is_loopback
    except ValueError:
        return False


async def _send_sms(channel: Any, to: str, text: str) -> None:
    if channel.store.opted_out(to):
        raise Undeliverable(409, "this customer opted out of SMS (STOP); they can only be reached another way")
    for part in sms_text.split_sms(sms_text.gsm_friendly(text)):
        result = await channel.sender.send(to, part)
        if result == "unsubscribed":
            channel.store.set_opted_out(to, True, "twilio", "Twilio error 21610 (number unsubscribed)", "twilio")
            raise Undeliverable(409, "Twilio reports this customer unsubscribed from SMS")
        if result == "refused":
            raise Undeliverable(409, "SMS to this number's country is not allowed (SMS_ALLOWED_COUNTRIES)")
        if result != "sent":
            raise Undeliverable(502, "the SMS could not be sent (Twilio failed); try again")


async def _send_socketio(channel: Any, sender_id: str, text: str) -> None:
    if getattr(channel, "sio", None) is None:
        raise Undeliverable(409, "the web chat channel is not running")
    # to the conversation's room (the widget rejoins it on every reconnect); with REDIS_URL the
    # replicas share their rooms, so this reaches a visitor connected to another replica
    await SocketIOOutput(channel.sio, channel.bot_message_evt).send_text_message(sender_id, text)


async def deliver(channels: list, name: str, sender_id: str, text: str) -> None:
    """Send `text` to the customer `sender_id` through the input channel called `name`."""
    if name in ("rest", ""):
        raise Undeliverable(409, "this customer wrote through the REST API, which cannot receive messages later: "
                                 "reach them another way")
    channel = next((c for c in channels if c.name() == name), None)
    if channel is None:
        raise Undeliverable(404, f"the {name} channel is not running")
    if name == "twilio":
        await _send_sms(channel, sender_id, text)
    elif name == "socketio":
        await _send_socketio(channel, sender_id, text)
    else:
        raise Undeliverable(409, f"staff replies cannot be sent through the {name} channel")


class StaffInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls((credentials or {}).get("secret"))

    def __init__(self, secret: Optional[str] = None) -> None:
        secret = (secret or "").strip()
        self.secret = "" if secret.startswith("${") else secret
        self.remote = RasaServerSettings.from_env().staff_channel_remote

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("milea_staff_send", __name__)

        @hook.route("/send", methods=["POST"])
        async def send(request: Request) -> HTTPResponse:
            given = request.headers.get("X-Staff-Secret") or ""
            if not self.secret or not hmac.compare_digest(given.encode(), self.secret.encode()):
                return _error(403, "wrong or missing X-Staff-Secret")
            if not (self.remote or _loopback(request.ip or "")):
                return _error(403, "staff replies are accepted from this machine only")
            try:
                body = request.json
            except Exception:
                body = None
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            sender_id, name, text = body.get("sender_id"), body.get("channel"), body.get("text")
            staff = str(body.get("staff") or "staff")[:80]
            if not (isinstance(sender_id, str) and sender_id and len(sender_id) <= 255):
                return _error(400, "'sender_id' is required")
            if not isinstance(name, str) or not isinstance(text, str) or not text.strip():
                return _error(400, "'channel' and a non-empty 'text' are required")
            text = text.strip()
            if len(text) > MAX_TEXT:
                return _error(413, f"the reply has {len(text)} characters; at most {MAX_TEXT} fit in an SMS")
            agent = request.app.ctx.agent
            conversation = await agent.tracker_store.retrieve(sender_id)
            if conversation is None:
                return _error(404, "no conversation with that id")
            # the channel the customer wrote through, never the one the request names: a web chat
            # opened under an SMS customer's phone once got the staff replies meant for them
            name = owner(conversation.events) or name
            try:
                await deliver(getattr(request.app.ctx, "input_channels", []), name, sender_id, text)
            except Undeliverable as refused:
                log.info("staff reply on %s not sent: HTTP %d", name, refused.status)
                return _error(refused.status, refused.reason)
            async with agent.lock_store.lock(sender_id):
                tracker = await agent.tracker_store.retrieve(sender_id)
                tracker.update(BotUttered(text, metadata={"staff": staff}))
                await agent.tracker_store.save(tracker)
            log.info("staff reply sent on %s", name)
            return response.json({"sent": True})

        return hook
