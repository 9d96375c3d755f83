"""Proof of ownership, the helpers every flow shares: sending a one-time code to the phone or
email already on a Commerce7 account, and the slot events that start and end verify_form.

A code goes only to contact details Commerce7 already holds for the account, never to what
the visitor typed (unless it is on the account). For an email or phone that matches no
account the visitor hears the same "I've sent a code" and no code can ever match: the chat
does not tell a stranger which emails or numbers are customers. Codes are never logged.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Optional, Set

from rasa_sdk.events import SlotSet

from core.commerce7.models import Customer, to_e164
from actions.handoff import send_email, send_sms
from core.texts import render
from actions.settings import Settings, get_settings
from actions.verification_store import CodeStore

log = logging.getLogger(__name__)
PURPOSE_POINTS, PURPOSE_SIGNUP = "points", "club_signup"
VERIFIED = "verified"          # verification_code once the right code was typed
NOBODY = "nobody:"             # verify_target for a contact that matches no account
SEND_BUDGET_S = 8.0
VERIFY_SLOTS = ["verification_needed", "verify_purpose", "verify_target", "verify_contact", "verification_code"]


@lru_cache(maxsize=1)
def code_store() -> CodeStore:
    settings = get_settings()
    return CodeStore(settings.verification_database, settings.verification_secret,
                     ttl_s=settings.verification_code_ttl_s)


def nobody(contact: str) -> str:
    return NOBODY + hashlib.sha256(contact.strip().casefold().encode()).hexdigest()[:24]


def start_events(purpose: str, target: Optional[str] = None) -> List[Dict[str, Any]]:
    """Ask the rules to run verify_form; with a target (a code already sent), it asks for the code only.

    verify_contact stays empty: a form validates slots filled before it starts.
    """
    return [SlotSet("verification_needed", True), SlotSet("verify_purpose", purpose),
            SlotSet("verify_target", target), SlotSet("verify_contact", None), SlotSet("verification_code", None)]


def end_events() -> List[Dict[str, Any]]:
    return [SlotSet(slot, None) for slot in VERIFY_SLOTS] + [SlotSet("form_blocked", None)]


@dataclass(frozen=True)
class Sent:
    outcome: str                 # sent | limited | unavailable | failed
    where: str = ""              # for the visitor: "the mobile number on the account"...

    @property
    def ok(self) -> bool:
        return self.outcome == "sent"


def routes(settings: Settings, customer: Optional[Customer], prefer: str) -> list[tuple[str, Optional[str]]]:
    """Where a code may go, preferred first: ("sms", phone on the account) / ("email", email on it).
    Without a customer, the routes the deployment has (the destination is None)."""
    phone = next((p for p in (to_e164(x) for x in (customer.phones if customer else [])) if p), None)
    email = customer.email if customer else None
    options = []
    if settings.sms_codes_enabled and (phone or customer is None):
        options.append(("sms", phone))
    if settings.email_codes_enabled and (email or customer is None):
        options.append(("email", email))
    return sorted(options, key=lambda o: o[0] != ("sms" if prefer == "phone" else "email"))


async def send_code(settings: Settings, sender_id: str, target: str, customer: Optional[Customer],
                    prefer: str) -> Sent:
    """Issue a code for `target` (a customer id, or a nobody() key) in this conversation and send it.

    What the visitor hears, and when, does not depend on whether the contact is a customer: the
    outcome and where the code went are worked out from the deployment's routes and the kind of
    contact typed, never from the account, and the code is sent after the answer (a real send
    took a second or more where a stranger's contact answered at once; an account without a
    usable route answered "unavailable").

    Args: prefer "phone" or "email": the kind of contact the visitor gave.
    Returns: the outcome and, when sent, how to tell the visitor where it went.
    """
    options = routes(settings, None, prefer)
    if not options:  # no SMS nor email set up: the same for everyone
        return Sent("unavailable")
    issued = code_store().issue(target, sender_id)
    if issued.code is None:
        return Sent("limited")
    if customer is not None:
        task = asyncio.ensure_future(_deliver(settings, customer, prefer, issued.code))
        _sending.add(task)
        task.add_done_callback(_sending.discard)
    return Sent("sent", render("utter_verify_where_phone" if options[0][0] == "sms" else "utter_verify_where_email"))


_sending: Set["asyncio.Future[bool]"] = set()  # codes on their way (kept so they are not collected)


async def delivered() -> None:
    """Wait for the codes on their way in this event loop (a loop that ends would drop them)."""
    mine = [task for task in _sending if task.get_loop() is asyncio.get_running_loop()]
    if mine:
        await asyncio.gather(*mine, return_exceptions=True)


async def _deliver(settings: Settings, customer: Customer, prefer: str, code: str) -> bool:
    """Send the code to the account's own contact, the preferred kind first; the other if that fails."""
    minutes = max(1, round(settings.verification_code_ttl_s / 60))
    deadline = time.monotonic() + SEND_BUDGET_S
    try:
        for kind, destination in routes(settings, customer, prefer):
            if kind == "sms":
                ok = await send_sms(settings, render("utter_verify_code_sms", code=code, minutes=minutes), deadline,
                                    to=destination)
            else:
                ok = await send_email(settings, render("utter_verify_code_email_subject"),
                                      render("utter_verify_code_email", code=code, minutes=minutes), deadline,
                                      to=destination)
            if ok:
                return True
        log.warning("verification code not delivered: no route of the account worked")
    except Exception as exc:  # a background task: logged, never raised into the loop
        log.error("verification code not delivered: %s", type(exc).__name__)
    return False
