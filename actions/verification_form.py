"""verify_form and what follows it.

domain.yml must hold: the form `verify_form` with required_slots [verify_contact,
verification_code] (both filled from text while requested), the custom slots
verification_needed (bool, influences the conversation: rules start the form when an
action sets it), verify_purpose, verify_target, verified_customer and form_blocked, the
responses utter_ask_verify_contact and utter_ask_verification_code, and the actions
validate_verify_form and action_verification_done (data/rules/verification.yml).

The form asks for the email or phone on the account unless the flow that started it
already knows the account (a club signup names its email), then for the code. Only a right
code sets `verified_customer`, a token signed by the assistant, bound to this conversation
and expiring (actions/identity.py reads it).
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import validators as v
from actions.commerce7.connection import get_client
from core.commerce7.errors import Commerce7Error, NotFound
from core.commerce7.models import Customer
from actions.common import clean_text, contact_line
from actions.forms.base import wants_to_stop
from actions.forms.club_signup import FORM_SLOTS as CLUB_SLOTS, write_signup
from actions.identity import VERIFIED_SLOT, identify, proven_customer_id, verified_for
from actions.account import change_form, club, details, orders  # noqa: F401 (each registers its purposes)
from actions.account.owner import after_proof, handles
from actions.loyalty import tell_balance
from actions.questions import answer_question, is_question
from actions.texts import say
from actions.settings import get_settings
from actions.verification import (NOBODY, PURPOSE_POINTS, PURPOSE_SIGNUP, VERIFIED, Sent, code_store, end_events,
                                  nobody, send_code)

log = logging.getLogger(__name__)

_RESEND = re.compile(r"\b(new|another|resend|send (it )?again|didn'?t (get|arrive|come)|never (got|came|arrived)|"
                     r"no code)\b", re.I)
_CODE = re.compile(r"^\d{6}$")


def _contact() -> Dict[str, str]:
    return {"contact": contact_line()}


def _minutes() -> int:
    return max(1, round(get_settings().verification_code_ttl_s / 60))


def tell_sent(dispatcher: CollectingDispatcher, sent: Sent, reply: str = "utter_verify_code_sent") -> None:
    """Say where the code went, or why none was sent."""
    if sent.ok:
        say(dispatcher, reply, where=sent.where, minutes=_minutes())
    elif sent.outcome == "limited":
        say(dispatcher, "utter_verify_rate_limited", **_contact())
    elif sent.outcome == "unavailable":
        say(dispatcher, "utter_verify_unavailable", **_contact())
    else:
        say(dispatcher, "utter_verify_send_failed", **_contact())


def _proven(tracker: Tracker) -> bool:
    """This message already proves an account (a website token, or an earlier code) that fits
    the form's purpose: any account for points, the signup email's account for a signup."""
    who = identify(tracker, get_settings())
    if who is None or not who.customer_id:
        return False
    return tracker.get_slot("verify_purpose") != PURPOSE_SIGNUP or who.customer_id == tracker.get_slot("verify_target")


class ValidateVerifyForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_verify_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        if tracker.get_slot("form_blocked") or tracker.get_slot("verification_code") == VERIFIED or _proven(tracker):
            return []
        if tracker.get_slot("verify_target"):
            return ["verification_code"]
        return ["verify_contact", "verification_code"]

    async def validate_verify_contact(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[Text, Any]:
        if value is None:   # start_events empties it as the form starts: not an answer (no "doesn't look like")
            return {"verify_contact": None}
        if wants_to_stop(tracker):
            return {"verify_contact": None, "form_blocked": "stopped"}
        if _proven(tracker):   # signed in on the website meanwhile: the form ends, nothing to ask
            return {"verify_contact": None}
        typed = clean_text(value)
        email = v.email(typed)
        phone = None if email else v.phone(typed)
        if not email and not phone:
            if is_question(tracker):
                await answer_question(dispatcher, tracker, domain)
            else:
                say(dispatcher, "utter_verify_contact_retry")
            return {"verify_contact": None}
        settings = get_settings()
        try:
            client = get_client()
            lookup = client.find_customer_by_email(email) if email else client.find_customer_by_phone(phone)
            customer = await asyncio.wait_for(lookup, 8.0)
        except (Commerce7Error, asyncio.TimeoutError) as exc:
            log.warning("verification lookup failed: %s", type(exc).__name__)
            say(dispatcher, "utter_points_unavailable", **_contact())
            return {"verify_contact": None, "form_blocked": "unavailable"}
        target = customer.id if customer else nobody(email or phone)
        sent = await send_code(settings, tracker.sender_id, target, customer, "email" if email else "phone")
        tell_sent(dispatcher, sent)
        if not sent.ok:
            return {"verify_contact": None, "form_blocked": sent.outcome}
        return {"verify_contact": email or phone, "verify_target": target}

    async def validate_verification_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> Dict[Text, Any]:
        if value is None:
            return {"verification_code": None}
        if wants_to_stop(tracker):
            return {"verification_code": None, "form_blocked": "stopped"}
        if _proven(tracker):
            return {"verification_code": None}
        typed = clean_text(value)
        target = tracker.get_slot("verify_target")
        if not target:
            return {"verification_code": None, "verify_contact": None}
        if _RESEND.search(typed):
            sent = await self._resend(tracker, target)
            tell_sent(dispatcher, sent)
            return {"verification_code": None} if sent.ok else {"verification_code": None, "form_blocked": sent.outcome}
        digits = re.sub(r"[\s.-]", "", typed)
        if not _CODE.match(digits):
            if is_question(tracker) and not any(c.isdigit() for c in typed):
                await answer_question(dispatcher, tracker, domain)
            else:
                say(dispatcher, "utter_verify_code_format")
            return {"verification_code": None}
        result = code_store().check(target, tracker.sender_id, digits)
        if result.ok and not target.startswith(NOBODY):
            say(dispatcher, "utter_verified")
            return {"verification_code": VERIFIED,
                    VERIFIED_SLOT: verified_for(tracker, target, get_settings())}
        if result.outcome == "wrong":
            if result.attempts_left == 1:
                say(dispatcher, "utter_verify_code_wrong_last")
            else:
                say(dispatcher, "utter_verify_code_wrong", left=result.attempts_left)
            return {"verification_code": None}
        if result.outcome in ("expired", "none"):
            say(dispatcher, "utter_verify_code_expired")
            return {"verification_code": None}
        say(dispatcher, "utter_verify_code_locked", **_contact())
        return {"verification_code": None, "form_blocked": "locked"}

    async def _resend(self, tracker: Tracker, target: str) -> Sent:
        customer: Optional[Customer] = None
        if not target.startswith(NOBODY):
            try:
                customer = await asyncio.wait_for(get_client().get_customer(target), 8.0)
            except NotFound:
                return Sent("unavailable")
            except (Commerce7Error, asyncio.TimeoutError):
                return Sent("failed")
        by_email = "@" in str(tracker.get_slot("verify_contact") or "") or tracker.get_slot("verify_purpose") == PURPOSE_SIGNUP
        prefer = "email" if by_email else "phone"
        return await send_code(get_settings(), tracker.sender_id, target, customer, prefer)


class ActionVerificationDone(Action):
    """After verify_form: finish what asked for the proof (a balance, a club signup), or explain."""

    def name(self) -> Text:
        return "action_verification_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        purpose = tracker.get_slot("verify_purpose")
        blocked = tracker.get_slot("form_blocked")
        events = end_events()
        if blocked == "stopped":
            say(dispatcher, "utter_verify_stopped")
        owner = "" if blocked else await proven_customer_id(tracker, get_settings(), get_client())
        if handles(purpose):   # customer self-service (actions/account/): orders, club, details, changes
            return [*events, *await after_proof(dispatcher, tracker, purpose, owner)]
        events.append(SlotSet("change_requested", None))
        if purpose == PURPOSE_POINTS and owner:
            await tell_balance(dispatcher, owner)
        elif purpose == PURPOSE_SIGNUP:
            if owner and owner == tracker.get_slot("verify_target"):
                events += await write_signup(dispatcher, tracker, owner_id=owner)
            events += [SlotSet(slot, None) for slot in CLUB_SLOTS]
        return events
