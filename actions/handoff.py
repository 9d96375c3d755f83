"""human_handoff: tell the staff at once, with a short transcript, and tell the customer when
they will hear back.

Staff are notified by SMS to STAFF_PHONE (Twilio REST API; TWILIO_API_BASE_URL points it
elsewhere, like the SMS channel) and/or by email to STAFF_EMAIL (SMTP; STARTTLS with
SMTP_STARTTLS=1). Both run at once and the action never waits more than HANDOFF_BUDGET_S.
The customer hears "shortly" during opening hours (knowledge/hours.yml), otherwise when we
next open; if no channel is configured or every channel failed, they get the winery's phone
and email instead: never a promise nobody will keep.
Logs name the channel and the outcome only (phone numbers masked, no message text).
"""
from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from dataclasses import dataclass
from urllib.parse import quote
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from core import business_hours
from actions import validators as v
from actions.common import clean_text, latest_text, winery
from actions.handoff_notices import notify_once
from core.clock import system_clock
from actions.texts import say
from core.texts import render
from actions.settings import Settings, get_settings
from actions.turns import turn_key
from core import phones
from core.phones import mask_phone
from core.settings import shared_settings

log = logging.getLogger(__name__)
# The Twilio SDK logs whole requests (numbers, bodies) at INFO: keep it to warnings.
_SDK_LOG = logging.getLogger("milea.handoff.twilio")
_SDK_LOG.setLevel(logging.WARNING)

HANDOFF_BUDGET_S = 9.0  # the whole notification step; the action answers within 10 s
TRANSCRIPT_MESSAGES = 8
TRANSCRIPT_LINE_CHARS = 220
TRANSCRIPT_MAX_CHARS = 950  # the transcript part of the email / SMS
SMS_MAX_CHARS = 1600
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
CHANNEL_LABELS = {"socketio": "web chat", "rest": "website/API chat", "twilio": "SMS"}


def _trim(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 3].rstrip() + "..."


def transcript(events: List[Dict[str, Any]], messages: int = TRANSCRIPT_MESSAGES,
               line_chars: int = TRANSCRIPT_LINE_CHARS, max_chars: int = TRANSCRIPT_MAX_CHARS) -> str:
    """The last few customer/bot messages of the current session, one line each, oldest first."""
    start = 0
    for i, event in enumerate(events):
        if event.get("event") == "session_started":
            start = i
    lines = []
    for event in events[start:]:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        said = clean_text(event.get("text"), 2000)
        if kind == "user" and said.startswith("/"):  # a button: name what was chosen
            said = f"[chose {said[1:].split('{')[0].replace('_', ' ')}]"
        if said:
            lines.append(f"{'Customer' if kind == 'user' else 'Bot'}: {_trim(said, line_chars)}")
    lines = lines[-messages:]
    while len(lines) > 1 and len("\n".join(lines)) > max_chars:
        lines.pop(0)
    return _trim("\n".join(lines), max_chars)


@dataclass(frozen=True)
class Customer:
    channel: str  # the input channel: twilio, socketio, rest, ...
    reach: str  # for the staff: how to reach the customer
    sms: bool  # on SMS: the sender id is the customer's phone
    email: Optional[str] = None
    phone: Optional[str] = None


def _known(validator: Callable[[str], Optional[str]], *texts: Any) -> Optional[str]:
    for value in texts:
        if isinstance(value, str) and value.strip():
            found = validator(clean_text(value))
            if found:
                return found
    return None


def customer_contact(tracker: Tracker) -> Customer:
    """How the staff can reach the customer: the SMS sender, or what the chat told us."""
    channel = tracker.get_latest_input_channel() or "unknown"
    latest = (tracker.latest_message or {}).get("text")
    email = _known(v.email, latest, tracker.get_slot("email"))
    if channel == "twilio":
        phone = clean_text(tracker.sender_id, 64)
        reach = f"SMS from {phone} (reply by text or call)" + (f", email {email}" if email else "")
        return Customer(channel, reach, True, email, phone)
    phone = _known(v.phone, latest, tracker.get_slot("phone"))
    parts = [f"{CHANNEL_LABELS.get(channel, channel)} (conversation {clean_text(tracker.sender_id, 64)})",
             f"email {email}" if email else "no email given"]
    if phone:
        parts.append(f"phone {phone}")
    return Customer(channel, ", ".join(parts), False, email, phone)


def next_opening(settings: Settings, now: datetime) -> Tuple[bool, Optional[str]]:
    """(open right now, 'Wednesday, November 25 at 12:00 PM' when closed)."""
    schedule = business_hours.schedule_from(settings.knowledge_dir / "hours.yml")
    local = now.astimezone(schedule.tz)
    hours = schedule.hours_on(local.date())
    if hours and hours.opens <= local.time() < hours.closes:
        return True, None
    day = local.date() if hours and local.time() < hours.opens else schedule.next_open_day(local.date())
    if day is None:
        return False, None
    opens = schedule.hours_on(day).opens
    return False, f"{business_hours.fmt_day(day)} at {business_hours.fmt_time(opens)}"


def console_link(sender_id: str) -> str:
    """The conversation in the staff console (CONSOLE_URL, set by `make run`), or '' without a console."""
    base = shared_settings().console_url
    return f"{base}/conversations/{quote(sender_id, safe='')}" if base else ""


# ---------------------------------------------------------------- notifications

async def send_sms(settings: Settings, body: str, deadline: float, to: Optional[str] = None) -> bool:
    """One SMS to `to` (default STAFF_PHONE); a second attempt on 5xx/429/connection errors when time allows.
    A customer's number outside SMS_ALLOWED_COUNTRIES gets nothing (SMS pumping: a code costs the winery)."""
    to = to or settings.staff_phone
    staff = ("staff " if to == settings.staff_phone else "") + mask_phone(to)
    if to != settings.staff_phone and not phones.sms_allowed(to):
        log.warning("SMS to %s not sent: its country is not in SMS_ALLOWED_COUNTRIES", staff)
        return False
    http = AsyncTwilioHttpClient(timeout=settings.handoff_timeout_s, logger=_SDK_LOG)
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http)
    if settings.twilio_api_base_url:
        client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    try:
        for attempt in (1, 2):
            try:
                left = max(0.1, min(settings.handoff_timeout_s, deadline - time.monotonic()))
                await asyncio.wait_for(client.messages.create_async(
                    to=to, from_=settings.twilio_number, body=body[:SMS_MAX_CHARS]), left)
                return True
            except TwilioRestException as exc:
                retry, reason = exc.status in RETRY_STATUS, f"HTTP {exc.status} (Twilio code {exc.code})"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                retry, reason = True, type(exc).__name__
            if not retry or attempt == 2 or deadline - time.monotonic() < 2.0:
                log.warning("SMS to %s failed: %s", staff, reason)
                return False
            await asyncio.sleep(0.5)
        return False
    finally:
        await http.close()


def _send_email_blocking(settings: Settings, subject: str, body: str, timeout: float,
                         to: Optional[str] = None) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to or settings.staff_email
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="milea-assistant")
    message.set_content(body)
    implicit_tls = settings.smtp_port == 465 and not settings.smtp_starttls
    if implicit_tls:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_email(settings: Settings, subject: str, body: str, deadline: float, to: Optional[str] = None) -> bool:
    """One email to `to` (default STAFF_EMAIL)."""
    left = max(0.1, min(settings.handoff_timeout_s, deadline - time.monotonic()))
    try:
        # smtplib blocks: a worker thread, its socket timeout, and a wait that never outlives the budget
        await asyncio.wait_for(asyncio.to_thread(_send_email_blocking, settings, subject, body, left, to), left + 0.5)
        return True
    except (smtplib.SMTPException, OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        reason = f"SMTP {exc.smtp_code}" if isinstance(exc, smtplib.SMTPResponseException) else type(exc).__name__
        log.warning("%s via %s:%s failed: %s", "email" if to else "hand-off: email to staff", settings.smtp_host,
                    settings.smtp_port, reason)
        return False


async def notify_staff(settings: Settings, sms_body: str, subject: str, email_body: str,
                       budget: float = HANDOFF_BUDGET_S) -> Dict[str, bool]:
    """{'sms': ok, 'email': ok} for each configured channel; {} when none is."""
    deadline = time.monotonic() + budget
    jobs: Dict[str, asyncio.Task] = {}
    if settings.handoff_sms_enabled:
        jobs["sms"] = asyncio.create_task(send_sms(settings, sms_body, deadline))
    if settings.handoff_email_enabled:
        jobs["email"] = asyncio.create_task(send_email(settings, subject, email_body, deadline))
    if not jobs:
        return {}
    done, pending = await asyncio.wait(jobs.values(), timeout=budget)
    for task in pending:
        task.cancel()
    results = {}
    for name, task in jobs.items():
        ok = task in done and not task.cancelled() and task.exception() is None and task.result() is True
        if task in done and not task.cancelled() and task.exception() is not None:
            log.error("hand-off: %s notification error: %s", name, type(task.exception()).__name__)
        elif task in pending:
            log.warning("hand-off: %s notification gave up after %.0f s", name, budget)
        results[name] = ok
    return results


class ActionHandoff(Action):
    clock: Callable[[], datetime] = staticmethod(system_clock)

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        """Args: as every action. Returns: no events (staff are told; the customer hears how and when);
        a question NLU took for a hand-off that asks for nobody ("price per person?", "how does someone
        get invited?") is answered instead, as an unsure message would be."""
        if not ASKS_FOR_SOMEONE.search(latest_text(tracker)):
            from actions.responder import respond   # the responder hands off too: imported where needed
            return (await respond(dispatcher, tracker, intent="nlu_fallback")).events
        await hand_off(dispatcher, tracker, self.clock())
        return []


# What a request for a person says: a way of reaching one, or a person named as the one wanted.
ASKS_FOR_SOMEONE = re.compile(
    r"\b(talk|speak|chat|connect|transfer|put me through|call me|call back|callback|reach|contact|in touch|escalate|"
    r"customer service|"
    r"email me|text me|hear from)\b|\b(human|humans|agent|representative|rep|operator|manager|staff|team|"
    r"real person|live person|actual person|someone (from|at|on|who)|somebody (from|at|on|who)|a person|"
    r"employee|owner|sommelier|(anyone|anybody|someone|somebody) (there|here|available|around|real))\b", re.I)


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, now: datetime) -> None:
    """Tell staff a customer asked for a person (SMS and e-mail, once per turn), and tell the customer
    how they will be reached; shared by the hand-off action and any answer to a message asking for one."""
    settings = get_settings()
    info = winery()
    contact = {"phone": info["phone"], "email": info["emails"]["general"]}
    customer = customer_contact(tracker)
    lines = transcript(tracker.events or [])
    label = CHANNEL_LABELS.get(customer.channel, customer.channel)
    link = console_link(tracker.sender_id)
    opened = f"\nAnswer in the console: {link}" if link else ""
    sms_body = (f"Milea chat: a customer asked for a person.{opened}\nReach: {customer.reach}\n"
                f"Last messages:\n{lines}")
    subject = f"Milea chat: a customer asked for a person ({label}" + (
        f" {mask_phone(customer.phone)})" if customer.sms else ")")
    email_body = ("A customer asked to talk to someone from the team.\n\n"
                  + (f"Answer them in the staff console: {link}\n" if link else "")
                  + f"How to reach them: {customer.reach}\nWhen: {now.isoformat(timespec='minutes')}\n\n"
                  f"Last messages:\n{lines}\n")
    results = await notify_once(  # once per customer turn, even when this call is replayed
        settings.feedback_database, clean_text(tracker.sender_id, 128) or "unknown", turn_key(tracker),
        HANDOFF_BUDGET_S, lambda: notify_staff(settings, _trim(sms_body, SMS_MAX_CHARS), subject, email_body),
        settings.handoff_notice_cooldown_s)
    if not results:
        log.warning("hand-off: no staff notification channel is configured (STAFF_PHONE/TWILIO_*, "
                    "STAFF_EMAIL/SMTP_*): the customer was given the phone and email")
    if not any(results.values()):
        say(dispatcher, "utter_handoff_unavailable", **contact)
        return
    log.info("hand-off from %s: staff notified by %s", label, ", ".join(k for k, ok in results.items() if ok))
    if customer.sms:
        how = render("utter_handoff_how_sms")
    elif customer.email:
        how = render("utter_handoff_how_email", email=customer.email)
    elif customer.phone:
        how = render("utter_handoff_how_phone", phone=customer.phone)
    else:
        how = ""
    # no way to reach the customer but this chat: say how to reach the team too
    reach_us = "" if how else " " + render("utter_handoff_no_contact", **contact)
    open_now, when = next_opening(settings, now)
    if open_now or when is None:
        say(dispatcher, "utter_handoff_open", how=how, reach_us=reach_us)
    else:
        say(dispatcher, "utter_handoff_closed", how=how, when=when, reach_us=reach_us)
