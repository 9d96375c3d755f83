"""The SMS channel (Twilio) with the checks Rasa's own TwilioInput lacks.

Keeps Rasa's path (/webhooks/twilio/webhook) and credential keys (account_sid, auth_token,
twilio_number) and adds an optional `webhook_url`: the public URL Twilio signs, when a proxy
rewrites it (default: the request URL, honouring X-Forwarded-Proto/Host).

- Requests without a valid X-Twilio-Signature get 403 and never reach the assistant.
- Twilio gets an empty TwiML answer at once; the message is handled in a background task and
  the replies go out through the REST API (async client; bounded retries on 5xx, 429 and
  connection errors). TWILIO_API_BASE_URL points the REST calls elsewhere (tests, proxies).
- A MessageSid is recorded on arrival and marked handled only after its turn is stored: a
  retry of a finished one is acknowledged only, one a crash left unfinished is handled again
  (by Twilio's retry or by the channel's own check every half lease). STOP-type keywords silence the number until START;
  HELP answers with the winery's name and phone. Consent to texts the winery starts is the consent ledger's
  (core/consent.py): STOP opts out at once, START/JOIN (or YES to the opt-in question within a week) opts in,
  each change kept with its words.
- POST /webhooks/twilio/status takes Twilio's status callbacks of the texts the jobs process sends
  (campaigns, Commerce7 events), signed and checked like the inbound webhook (TWILIO_STATUS_CALLBACK_URL
  is the URL Twilio signs, when a proxy rewrites it): delivered / failed in core/outreach.py.
- A reply "1"/"2" to a club-shipment text (core/texting/events.py) records the member's choice (ship or
  pick up) and answers it; "3" hands off to a person as usual.
- Texts from, and replies to, numbers outside SMS_ALLOWED_COUNTRIES (default US,CA) are neither
  answered nor sent: SMS pumping sends texts from premium-rate numbers abroad to make replies cost.
- More messages from one number than RATE_LIMIT_PER_SENDER per window (channels/guard.py):
  the first one over gets a TwiML reply saying so, later ones none, until the window ends.
- An SMS Twilio will not take after the retries is recorded (number, reason, time) for the staff
  console's needs-attention page.
- One SMS per turn: the bot's messages joined, buttons as numbered options ("Reply 1 for ..."),
  and a reply "2" maps back to that button; split only above 1,600 characters.
State (handled MessageSids, opt-outs, last buttons) is SQLite in MILEA_DATA_DIR/sms.db, or the
shared PostgreSQL database of the production profile (TRACKER_DB_URL or SMS_DB_URL).
"""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

import aiohttp
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core import phones
from core.cards import looks_like_card_number
from core.texts import render
from channels import sms_text
from channels.guard import LIMITED_TEXT, RejectedMessage, clean_sender, clean_text, flood_guard, guard_payload
from channels.sms_store import LEASE_S, SmsStore, sms_database
from core.outreach import OutreachStore
from core.paths import ROOT

log = logging.getLogger(__name__)
# The SDK logs whole requests (numbers, bodies) at INFO: keep it to warnings.
_SDK_LOG = logging.getLogger("milea.twilio.sdk")
_SDK_LOG.setLevel(logging.WARNING)

MAX_REQUEST_BYTES = 64 * 1024  # a real Twilio webhook is a few KB
MAX_FORM_FIELDS = 200
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# What the channel says itself (outside a turn) is in domain.yml too, as utter_sms_* responses.
EMPTY_PROMPT = render("utter_sms_empty_prompt", "twilio")
CLUB_CHOICE = "club_choice:"  # a club-shipment text's numbered replies (core/texting/events.py)
MEDIA_NOTE = render("utter_sms_media_note", "twilio")
CARD_SMS = render("utter_card_not_kept", "twilio")


class TwilioCollector(CollectingOutputChannel):
    """Collects the replies of one SMS turn. Rasa's NLG picks a response's variation by the output
    channel's name: "twilio" selects the `channel: twilio` versions in domain.yml (the plain
    collector would be "collector" and get the web versions)."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"


def _error(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


def _twiml(message: Optional[str] = None) -> HTTPResponse:
    body = TWIML_EMPTY if message is None else \
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{xml_escape(message)}</Message></Response>'
    return response.text(body, content_type="text/xml")


class _Params(dict):
    """Form fields as name -> [values]; `getall` is what RequestValidator looks for."""

    def getall(self, name: str) -> List[str]:
        return self[name]

    def first(self, name: str) -> Optional[str]:
        values = self.get(name)
        return values[0] if values else None


class TwilioSender:
    """Sends one SMS through the REST API without blocking the event loop, with retries.

    `on_failed(to, reason)` is told of every SMS that finally could not be sent (the channel records
    it for staff: SmsStore.record_failed); its own errors are logged, never raised into the send.
    """

    RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
    UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient"

    def __init__(self, account_sid: str, auth_token: str, from_number: str, base_url: Optional[str] = None,
                 attempts: int = 4, backoff: float = 0.5, timeout: float = 10.0,
                 on_failed: Optional[Callable[[str, str], None]] = None) -> None:
        self.account_sid, self.auth_token, self.from_number = account_sid, auth_token, from_number
        self.base_url = (base_url or "").rstrip("/") or None
        self.attempts, self.backoff, self.timeout = attempts, backoff, timeout
        self.on_failed = on_failed
        self._client: Optional[Client] = None

    def _get_client(self) -> Client:
        if self._client is None:  # created inside the running loop (aiohttp session)
            http = AsyncTwilioHttpClient(timeout=self.timeout, logger=_SDK_LOG)
            self._client = Client(self.account_sid, self.auth_token, http_client=http)
            if self.base_url:
                self._client.api.base_url = self.base_url
        return self._client

    async def send(self, to: str, body: str) -> str:
        """'sent', 'unsubscribed', 'refused' (a country outside SMS_ALLOWED_COUNTRIES) or 'failed'.
        Logs carry the masked number, never the body."""
        if not phones.sms_allowed(to):
            log.warning("SMS to %s not sent: its country is not in SMS_ALLOWED_COUNTRIES", sms_text.mask_phone(to))
            return "refused"
        for attempt in range(1, self.attempts + 1):
            try:
                await asyncio.wait_for(
                    self._get_client().messages.create_async(to=to, from_=self.from_number, body=body),
                    self.timeout)
                return "sent"
            except TwilioRestException as exc:
                if exc.code == self.UNSUBSCRIBED:
                    return "unsubscribed"
                retry, reason = exc.status in self.RETRY_STATUS, f"HTTP {exc.status} (Twilio code {exc.code})"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                retry, reason = True, type(exc).__name__
            if not retry or attempt == self.attempts:
                log.error("SMS to %s not sent after %d attempt(s): %s", sms_text.mask_phone(to), attempt, reason)
                self._failed(to, f"{reason}, after {attempt} attempt(s)")
                return "failed"
            log.warning("SMS to %s: %s, retrying (attempt %d of %d)", sms_text.mask_phone(to), reason,
                        attempt + 1, self.attempts)
            await asyncio.sleep(min(self.backoff * 2 ** (attempt - 1), 8.0))
        return "failed"

    def _failed(self, to: str, reason: str) -> None:
        if self.on_failed is None:
            return
        try:
            self.on_failed(to, reason)
        except Exception as exc:  # noqa: BLE001 - the store may be down; the log line above remains
            log.error("SMS to %s: could not record the failed send: %s", sms_text.mask_phone(to), type(exc).__name__)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None


def _winery() -> Dict[str, str]:
    path = Path(os.environ.get("KNOWLEDGE_DIR") or ROOT / "knowledge") / "winery.yml"
    try:
        facts = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        log.warning("SMS: %s not readable: HELP replies without the phone number", path)
        facts = {}
    return {"name": str(facts.get("name") or "Milea Estate Vineyard"), "phone": str(facts.get("phone") or "")}


def _configured(value: Any) -> Optional[str]:
    """A credential value, or None when empty or an unexpanded ${VAR}."""
    if not isinstance(value, str) or not value.strip() or value.strip().startswith("${"):
        return None
    return value.strip()


class SafeTwilioInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("account_sid"), credentials.get("auth_token"),
                   credentials.get("twilio_number"), credentials.get("webhook_url"))

    def __init__(self, account_sid: Optional[str], auth_token: Optional[str], twilio_number: Optional[str],
                 webhook_url: Optional[str] = None, data_dir: Optional[Path] = None,
                 api_base_url: Optional[str] = None) -> None:
        sid, token, number = _configured(account_sid), _configured(auth_token), _configured(twilio_number)
        if not (sid and token and number):
            raise ValueError("twilio channel: account_sid, auth_token and twilio_number are required")
        self.webhook_url = _configured(webhook_url)
        self.validator = RequestValidator(token)
        data_dir = data_dir or Path(os.environ.get("MILEA_DATA_DIR") or ROOT / ".data")
        self.store = SmsStore(sms_database(Path(data_dir)))
        self.sender = TwilioSender(sid, token, number, api_base_url or os.environ.get("TWILIO_API_BASE_URL"),
                                   on_failed=self.store.record_failed)
        winery = _winery()
        self.help = sms_text.help_text(winery["name"], winery["phone"])
        self.opt_in = render("utter_sms_opt_in", "twilio", name=winery["name"])
        self.consent_yes = render("utter_sms_consent_yes", "twilio", name=winery["name"])
        self.consent = self.store.consent
        self.outreach = OutreachStore(self.store.url)
        self.status_url = _configured(os.environ.get("TWILIO_STATUS_CALLBACK_URL"))
        self.sorry = render("utter_sms_sorry", "twilio", phone=winery["phone"] or "the winery")
        self._tasks: Set[asyncio.Task] = set()
        self._locks: Dict[str, List[Any]] = {}  # number -> [lock, users]: one turn at a time, in order

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("milea_twilio_webhook", __name__)

        @hook.listener("after_server_start")
        async def recover(*_: Any) -> None:
            self._spawn(self._recover_unfinished(on_new_message))

        @hook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            for task in list(self._tasks):
                task.cancel()
            await self.sender.close()

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            params = await self._signed_params(request, self.webhook_url, "SMS webhook")
            if isinstance(params, HTTPResponse):
                return params

            sender = clean_sender(params.first("From"))
            if sender is None:
                return _error(400, "'From' is missing or longer than 128 characters")
            if not phones.sms_allowed(sender):  # SMS pumping: a reply there costs the winery, nobody reads it
                log.info("SMS from %s not answered: its country is not in SMS_ALLOWED_COUNTRIES",
                         sms_text.mask_phone(sender))
                return _twiml()
            sid = params.first("MessageSid") or params.first("SmsMessageSid") or ""
            if not (0 < len(sid) <= 64):
                return _error(400, "'MessageSid' is missing or too long")
            try:
                text = clean_text(params.first("Body") or "")
            except RejectedMessage as rejected:
                if rejected.status != 400:  # too long; 400 only means empty: a friendly prompt
                    return _error(rejected.status, rejected.reason.replace("'message'", "'Body'"))
                text = ""
            try:
                media = max(0, min(int(params.first("NumMedia") or 0), 10))
            except ValueError:
                media = 0
            if looks_like_card_number(text):   # never stored nor sent on: said where a card goes instead
                self._spawn(self._deliver(sender, CARD_SMS))
                return _twiml()
            # Recorded before the 200, marked done only after the turn is stored (at least once).
            if not self.store.receive(sid, sender, text, media):
                log.info("SMS webhook: MessageSid already handled, retry acknowledged")
                return _twiml()
            if sms_text.keyword(text) != "stop":  # an opt-out always gets through
                verdict = await flood_guard().check(self.name(), sender, None)  # signed: From is the sender
                if verdict.limited:  # one SMS saying so per window, then silence; nothing left to re-handle
                    self.store.done(sid)
                    return _twiml(LIMITED_TEXT if verdict.first and not self.store.opted_out(sender) else None)
            self._spawn(self._handle(on_new_message, sender, text, media, sid))
            return _twiml()

        @hook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            """Twilio's status callback of a text the jobs process sent: delivered or failed."""
            params = await self._signed_params(request, self.status_url, "SMS status callback")
            if isinstance(params, HTTPResponse):
                return params
            message_sid = params.first("MessageSid") or params.first("SmsSid") or ""
            state = (params.first("MessageStatus") or params.first("SmsStatus") or "").lower()
            if not (0 < len(message_sid) <= 64) or not state:
                return _error(400, "'MessageSid' and 'MessageStatus' are required")
            try:
                self.outreach.status_callback(message_sid, state, (params.first("ErrorCode") or "")[:10])
            except Exception as exc:  # noqa: BLE001 - Twilio retries a 5xx; the state is only a count
                log.error("SMS status callback not recorded: %s", type(exc).__name__)
                return _error(503, "the status could not be recorded; try again")
            return response.empty(status=204)

        return hook

    async def _signed_params(self, request: Request, signed_url: Optional[str], what: str) -> Any:
        """The form of a request Twilio signed (checked against signed_url, else the request URL), or the
        error response to answer; `what` names the endpoint in the log line of a bad signature."""
        raw = request.body or b""
        if len(raw) > MAX_REQUEST_BYTES:
            return _error(413, f"the request body is larger than {MAX_REQUEST_BYTES} bytes")
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return _error(403, "missing X-Twilio-Signature")
        if not request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
            return _error(415, "the body must be application/x-www-form-urlencoded")
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS,
                              errors="strict")
        except (UnicodeDecodeError, ValueError):
            return _error(400, "the form must be UTF-8 with at most %d fields" % MAX_FORM_FIELDS)
        params = _Params()
        for key, value in pairs:
            params.setdefault(key, []).append(value)
        try:
            valid = self.validator.validate(signed_url or self._request_url(request), params, signature)
        except ValueError:  # urlparse: Host/X-Forwarded-Host with a bad port or a broken IPv6 literal
            valid = False
        if not valid:
            log.warning("%s: rejected a request with an invalid X-Twilio-Signature", what)
            return _error(403, "invalid X-Twilio-Signature")
        return params

    @staticmethod
    def _request_url(request: Request) -> str:
        proto = (request.headers.get("X-Forwarded-Proto") or request.scheme or "http").split(",")[0].strip()
        host = (request.headers.get("X-Forwarded-Host") or request.headers.get("host") or "").split(",")[0].strip()
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{proto}://{host}{request.path}{query}"

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _recover_unfinished(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Handle again the messages a crashed process received but never finished (checked every half lease)."""
        while True:
            try:
                for sid, sender, text, media in self.store.unfinished():
                    log.warning("SMS from %s was received but never finished (a crash?): handling it now",
                                sms_text.mask_phone(sender))
                    self._spawn(self._handle(on_new_message, sender, text, media, sid))
            except Exception as exc:  # noqa: BLE001 - the store may be briefly down; try next round
                log.warning("SMS: could not look for unfinished messages: %s", type(exc).__name__)
            await asyncio.sleep(LEASE_S / 2)

    async def _handle(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], sender: str, text: str,
                      media: int, sid: Optional[str] = None) -> None:
        entry = self._locks.setdefault(sender, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                await self._turn(on_new_message, sender, text, media)
        except Exception as exc:  # a background task: log, never raise into the loop
            log.error("SMS from %s not handled: %s", sms_text.mask_phone(sender), type(exc).__name__)
            log.debug("SMS handling error", exc_info=True)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(sender, None)
        if sid:  # only a process that dies before this line leaves the message to be handled again
            try:
                self.store.done(sid)
            except Exception as exc:  # noqa: BLE001 - then a retry or the recovery handles it again
                log.error("SMS %s: could not mark it handled: %s", sms_text.mask_phone(sender), type(exc).__name__)

    async def _turn(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], sender: str, text: str,
                    media: int) -> None:
        opted_out = self.store.opted_out(sender)
        word = sms_text.keyword(text, opted_out)
        if word == "stop":  # the carrier/Twilio confirms STOP itself
            self.consent.opt_out(sender, "sms", text)
            log.info("SMS: %s opted out", sms_text.mask_phone(sender))
            return
        answered = word is None and sms_text.is_yes(text) and self.consent.status(sender) is None \
            and self.consent.asked_recently(sender)  # YES to the opt-in question the assistant asked this number
        if word == "start" or answered:
            self.consent.opt_in(sender, "sms", text, source="yes to the opt-in question" if answered else "sms keyword")
            log.info("SMS: %s opted in", sms_text.mask_phone(sender))
            await self._deliver(sender, self.opt_in if opted_out else self.consent_yes)
            return
        if opted_out:
            log.info("SMS: message from opted-out %s not answered", sms_text.mask_phone(sender))
            return
        if word == "help":
            await self._deliver(sender, self.help)
            return
        notes = [MEDIA_NOTE] if media else []
        if not text:
            await self._deliver(sender, sms_text.join_messages(notes or [EMPTY_PROMPT]))
            return
        buttons = self.store.buttons(sender)
        choice = sms_text.parse_choice(text, len(buttons))
        if choice is not None and buttons[choice]["payload"].startswith(CLUB_CHOICE):
            await self._club_choice(sender, buttons[choice]["payload"])
            return
        message = guard_payload(buttons[choice]["payload"] if choice is not None else text)
        collector = TwilioCollector()
        try:
            await on_new_message(UserMessage(message, collector, sender, input_channel=self.name(),
                                             metadata={"sms": {"num_media": media}}))
            body, new_buttons = sms_text.compose_reply(collector.messages)
        except Exception as exc:
            log.error("SMS from %s: the assistant failed: %s", sms_text.mask_phone(sender), type(exc).__name__)
            log.debug("assistant error", exc_info=True)
            body, new_buttons = self.sorry, []
        self.store.set_buttons(sender, new_buttons)
        await self._deliver(sender, sms_text.join_messages(notes + [body]))

    async def _club_choice(self, sender: str, payload: str) -> None:
        """'club_choice:<ship|pickup>:<package id>:<club>' from a club-shipment text: kept for staff, answered."""
        _, choice, package_id, club = (payload.split(":", 3) + ["", "", "", ""])[:4]
        self.outreach.record_club_choice(sender, package_id, club, choice)
        self.store.set_buttons(sender, [])
        log.info("SMS: %s chose %s for a club shipment", sms_text.mask_phone(sender), choice)
        await self._deliver(sender, render("utter_c7_club_choice_ship" if choice == "ship" else
                                           "utter_c7_club_choice_pickup", "twilio", club=club))

    async def _deliver(self, to: str, body: str) -> None:
        parts = sms_text.split_sms(sms_text.gsm_friendly(body))
        for part in parts:
            if self.store.opted_out(to):  # STOP may arrive while a reply is on its way
                return
            result = await self.sender.send(to, part)
            if result == "unsubscribed":
                self.store.set_opted_out(to, True, "twilio", "Twilio error 21610 (number unsubscribed)", "twilio")
                log.info("SMS: Twilio reports %s unsubscribed: recorded the opt-out", sms_text.mask_phone(to))
                return
            if result != "sent":
                return
        log.debug("SMS to %s: %d message(s), %d segment(s)", sms_text.mask_phone(to), len(parts),
                  sum(sms_text.segment_count(p) for p in parts))
