"""join_club: the club_signup_form, its read-back, and the write to Commerce7.

No card number is ever asked for or kept: the membership is created pending
payment and the customer adds a card on the secure store.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import validators as v
from actions.turns import turn_key
from actions.commerce7.connection import get_client
from core.cards import looks_like_card_number
from core.commerce7.errors import Commerce7Error, ValidationError
from core.commerce7.outbox import Outbox
from core.commerce7.signup import ClubSignup, OwnershipRequired, keep_for_staff, perform_signup
from actions.common import contact_line
from actions.converse import question_sentences, tier_lines
from actions.forms.base import GuidedForm, reset_events
from actions.identity import proven_customer_id
from actions.texts import say
from core.texts import render
from actions.settings import get_settings
from actions.verification import PURPOSE_SIGNUP, send_code, start_events

log = logging.getLogger(__name__)

ADDRESS_SLOTS = ["ship_street", "ship_city", "ship_state", "ship_zip"]
FORM_SLOTS = ["club_tier", "first_name", "last_name", "email", "phone", "birth_date", "delivery_method",
              *ADDRESS_SLOTS, "signup_confirmed", "confirm_stop", "stop_requested", "form_blocked", "form_failures"]
# A signup that ended (written, kept, refused): the form's slots and any verification request cleared.
DONE_SLOTS = FORM_SLOTS + ["verification_needed"]
# Commerce7 writes must finish well inside Rasa's 60 s lock lifetime; past this the outbox takes over.
WRITE_BUDGET_S = 12.0
_QUESTIONISH = re.compile(r"\b(how|what|when|where|why|which|who|can|does|do|is|are|price|cost|club|wine|tier)\b", re.I)


_JOINING = re.compile(r"\b(join|joining|sign (me |us )?up|signup|become a member|enrol+|membership|subscribe)\b", re.I)
# a question about joining that asks a rule of it ("if I join, can I quit after one shipment?")
# ("if someone I referred joins, what do I get?", "if I join can I grab my bottles in person?")
_CONDITION = re.compile(r"\b(cancel|quit|stop|pause|skip|leave|minimum|commit\w*|how long|fee|invit\w*|refer\w*|someone|"
                        r"friends?|points|miles|pick ?up|grab|collect|ship\w*|deliver\w*|in person)\b", re.I)


def name_answer(text: str) -> Optional[str]:
    """The name in a form answer; None for text that reads like a question (the form asks again)."""
    if not isinstance(text, str) or len(text.split()) > 3 or _QUESTIONISH.search(text) or "?" in text:
        return None
    return v.person_name(text)


def _birth(text: str) -> Optional[str]:
    born = v.birth_date(text)
    return born.isoformat() if born else None


def _state(text: str) -> Optional[str]:
    return v.us_state(text)


def _allowed_states() -> str:
    return ", ".join(v.STATE_NAMES[s] for s in v.club_rules()["ships_to_states"])


class ValidateClubSignupForm(GuidedForm):
    form = "club_signup_form"
    rules = {
        "club_tier": (v.club_tier, "utter_retry_club_signup_form_club_tier",
                                   "utter_explain_club_signup_form_club_tier"),
        "first_name": (name_answer, "utter_retry_club_signup_form_first_name", "utter_explain_club_signup_form_first_name"),
        "last_name": (name_answer, "utter_retry_club_signup_form_last_name", "utter_explain_club_signup_form_last_name"),
        "email": (v.email, "utter_retry_club_signup_form_email", "utter_explain_club_signup_form_email"),
        "phone": (v.phone, "utter_retry_club_signup_form_phone", "utter_explain_club_signup_form_phone"),
        "birth_date": (_birth, "utter_retry_club_signup_form_birth_date",
                               "utter_explain_club_signup_form_birth_date"),
        "delivery_method": (v.delivery_method, "utter_retry_club_signup_form_delivery_method",
                                               "utter_explain_club_signup_form_delivery_method"),
        "ship_street": (v.street, "utter_retry_club_signup_form_ship_street",
                                  "utter_explain_club_signup_form_ship_street"),
        "ship_city": (v.city, "utter_retry_club_signup_form_ship_city", "utter_explain_club_signup_form_ship_city"),
        "ship_state": (_state, "utter_retry_club_signup_form_ship_state",
                               "utter_explain_club_signup_form_ship_state"),
        "ship_zip": (v.zip_code, "utter_retry_club_signup_form_ship_zip", "utter_explain_club_signup_form_ship_zip"),
    }

    topic = "ask_club"

    def answers_first_of(self, text: str) -> bool:
        """"what's the Winners Circle? can I sign up for that?", "if I join can I cancel any time?": a
        question beside the wish to join is answered first, and the form waits to be asked again;
        "can I join the Grand Prix?" is the wish itself."""
        return any(not _JOINING.search(q) or _CONDITION.search(q) for q in question_sentences(text).split("?")
                   if q.strip())

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        """As every guided form, except that an age under 21 said while asking to join ("im 20, can I
        join?") ends the form at once, as a birth date under 21 would: nothing is asked or written."""
        starting = tracker.get_slot("requested_slot") is None and not tracker.get_slot(self.blocked_slot)
        if starting and v.under_age((tracker.latest_message or {}).get("text") or ""):
            return [SlotSet(self.blocked_slot, "underage"), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    def slots_for(self, tracker: Tracker, slots: List[Text]) -> List[Text]:
        if tracker.get_slot("delivery_method") != "Ship":
            slots = [s for s in slots if s not in ADDRESS_SLOTS]
        return [s for s in slots if s in self.rules or s == "signup_confirmed"]

    async def extract_club_tier(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        """A tier named in the message that starts the form ("join the grand prix club"), or the tier
        just talked about ("sign me up for that one"), so that it is checked and said back."""
        if tracker.get_slot("requested_slot") not in (None, "club_tier"):
            return {}
        named = [e.get("value") for e in (tracker.latest_message or {}).get("entities") or []
                 if e.get("entity") == "club_tier" and isinstance(e.get("value"), str)]
        if named:
            return {"club_tier": named[0]}
        if tracker.get_slot("club_tier") and tracker.get_slot("requested_slot") is None:
            return {"club_tier": tracker.get_slot("club_tier")}
        return {}

    async def validate_club_tier(self, value, dispatcher, tracker, domain):
        result = await self.check("club_tier", value, dispatcher, tracker, domain)
        if result.get("club_tier"):
            say(dispatcher, "utter_club_tier_chosen", club_tier=result["club_tier"])
            # the tier is now what "how much is that per shipment?" asks about, mid-form too
            result.update({"subject_kind": "tier", "subject_tier": result["club_tier"]})
        return result

    async def validate_first_name(self, value, dispatcher, tracker, domain):
        return await self.check("first_name", value, dispatcher, tracker, domain)

    async def validate_last_name(self, value, dispatcher, tracker, domain):
        return await self.check("last_name", value, dispatcher, tracker, domain)

    async def validate_email(self, value, dispatcher, tracker, domain):
        return await self.check("email", value, dispatcher, tracker, domain)

    async def validate_phone(self, value, dispatcher, tracker, domain):
        if isinstance(value, str) and looks_like_card_number(value):
            say(dispatcher, "utter_no_card_numbers")
            return {"phone": None}
        return await self.check("phone", value, dispatcher, tracker, domain)

    async def validate_birth_date(self, value, dispatcher, tracker, domain):
        result = await self.check("birth_date", value, dispatcher, tracker, domain)
        born = result.get("birth_date")
        if born and not v.is_of_age(date.fromisoformat(born)):
            return {"birth_date": None, "form_blocked": "underage"}
        return result

    async def validate_delivery_method(self, value, dispatcher, tracker, domain):
        return await self.check("delivery_method", value, dispatcher, tracker, domain)

    async def validate_ship_street(self, value, dispatcher, tracker, domain):
        return await self.check("ship_street", value, dispatcher, tracker, domain)

    async def validate_ship_city(self, value, dispatcher, tracker, domain):
        return await self.check("ship_city", value, dispatcher, tracker, domain)

    async def validate_ship_state(self, value, dispatcher, tracker, domain):
        result = await self.check("ship_state", value, dispatcher, tracker, domain)
        state = result.get("ship_state")
        if state and not v.allowed_ship_state(state):
            say(dispatcher, "utter_ship_state_not_allowed", states=_allowed_states())
            return {"ship_state": None, "ship_street": None, "ship_city": None, "delivery_method": None}
        return result

    async def validate_ship_zip(self, value, dispatcher, tracker, domain):
        return await self.check("ship_zip", value, dispatcher, tracker, domain)

    async def validate_signup_confirmed(self, value, dispatcher, tracker, domain):
        if value is True:
            return {"signup_confirmed": True}
        if value is False:
            return {"signup_confirmed": None, "form_blocked": "declined"}
        say(dispatcher, "utter_signup_confirmed_retry")
        return {"signup_confirmed": None}


def signup_from(tracker: Tracker) -> ClubSignup:
    get = tracker.get_slot
    ship = get("delivery_method") == "Ship"
    return ClubSignup(get("club_tier"), get("first_name"), get("last_name"), get("email"), get("phone"),
                      get("birth_date"), get("delivery_method"),
                      get("ship_street") if ship else "", get("ship_city") if ship else "",
                      get("ship_state") if ship else "", get("ship_zip") if ship else "",
                      started_at=time.time())


def summary_values(s: ClubSignup) -> Dict[str, Any]:
    """The {placeholders} of utter_signup_summary, the read-back of the signup."""
    where = (render("utter_signup_where_ship", None, street=s.street, city=s.city, state=s.state, zip=s.zip)
             if s.delivery == "Ship" else render("utter_signup_where_pickup"))
    return {"tier": s.tier, "first_name": s.first_name, "last_name": s.last_name, "email": s.email,
            "phone": s.phone, "birth_date": s.birth_date, "where": where}


class ActionAskClubTier(Action):
    """The tier question names every tier and what differs (over SMS the text is all there is)."""

    def name(self) -> Text:
        return "action_ask_club_signup_form_club_tier"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        say(dispatcher, "utter_ask_club_signup_form_club_tier",
            tiers=tier_lines(get_settings().knowledge_dir, tracker.get_latest_input_channel()))
        return []


class ActionAskSignupConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_signup_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        say(dispatcher, "utter_signup_summary", **summary_values(signup_from(tracker)))
        return []


class ActionSubmitClubSignup(Action):
    def name(self) -> Text:
        return "action_submit_club_signup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        blocked = tracker.get_slot("form_blocked")
        if blocked == "underage":
            say(dispatcher, "utter_club_underage")
        elif blocked == "stopped":
            say(dispatcher, "utter_form_stopped")
        elif blocked == "declined":
            say(dispatcher, "utter_signup_declined")
        elif tracker.get_slot("signup_confirmed") is True:
            return await write_signup(dispatcher, tracker)
        return reset_events(DONE_SLOTS)


async def write_signup(dispatcher: CollectingDispatcher, tracker: Tracker,
                       owner_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """Write the confirmed signup in the form's slots to Commerce7 and tell the customer.

    Args: owner_id: the customer the conversation proved to be (looked up when None).
    Returns: events: the form's slots reset, or (an email of an existing account, not proven
    to be theirs) verify_form started with a code sent to that account, form slots kept.
    """
    settings = get_settings()
    if owner_id is None:
        owner_id = await proven_customer_id(tracker, settings, get_client())
    signup = dataclasses.replace(signup_from(tracker), owner_id=owner_id)
    outbox = Outbox(settings.outbox_database)
    try:
        result = await asyncio.wait_for(
            perform_signup(get_client(), signup, settings.c7_pickup_location_id), WRITE_BUDGET_S)
    except OwnershipRequired as exc:
        sent = await send_code(settings, tracker.sender_id, exc.customer.id, exc.customer, "email")
        if sent.ok:
            say(dispatcher, "utter_verify_signup_code_sent", where=sent.where,
                minutes=max(1, round(settings.verification_code_ttl_s / 60)))
            return start_events(PURPOSE_SIGNUP, target=exc.customer.id)
        keep_for_staff(outbox, "club_signup_review", "review:" + signup.key, signup.to_payload(),
                       f"existing account, ownership not proven (code {sent.outcome})", request=turn_key(tracker))
        say(dispatcher, "utter_signup_needs_staff", tier=signup.tier, contact=contact_line("wine_club"))
        return reset_events(DONE_SLOTS)
    except ValidationError as exc:
        # Commerce7 refused the data itself: keep it for staff rather than retry it forever.
        outbox.mark_attention(outbox.enqueue("club_signup", signup.key, signup.to_payload(),
                                             request=turn_key(tracker)), str(exc))
        say(dispatcher, "utter_signup_needs_person", contact=contact_line("wine_club"))
        return reset_events(DONE_SLOTS)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("club signup deferred to the outbox: %s", type(exc).__name__)
        outbox.enqueue("club_signup", signup.key, signup.to_payload(), type(exc).__name__, request=turn_key(tracker))
        say(dispatcher, "utter_signup_saved_for_later", tier=signup.tier)
        return reset_events(DONE_SLOTS)
    if result.already_member:
        say(dispatcher, "utter_already_member", tier=signup.tier)
    else:
        say(dispatcher, "utter_signup_done", tier=signup.tier, store_url=settings.store_account_url)
    # Not verified for an account it created: typing an email proves nothing (it may be someone else's).
    return reset_events(DONE_SLOTS)
