"""account_change_form: changes a proven customer asks for, read back and confirmed with a yes.

- club_delivery: switch the membership between shipping and pickup (shipping to the address on file when it
  is in a state we ship to, else to a new address asked here);
- club_address: ship the membership to a new address (validated; the allowed states only);
- details_email / details_phone: a new email or mobile number, proven by a code sent to it before it is saved;
- details_address: a new default address;
- club_cancel / club_hold: never done here: the retention line, the member's reason, then a staff task in
  the console's Needs attention.

The write goes through the outbox once per confirming turn (core/commerce7/account_changes.py `submit`), so a
replayed action call writes nothing twice; a Commerce7 refusal lands in Needs attention. The proof is checked
again when the yes comes: a change is made only for the customer the conversation still proves to be.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import time
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import validators as v
from actions.account import present
from actions.account.club import active_membership, pickup_location, ship_to, tier_of
from actions.account.owner import PURPOSE_CHANGE, finishes, idle_events, owner
from actions.commerce7.connection import get_client
from actions.common import clean_text, contact_line, latest_intent, latest_text
from actions.forms.base import wants_to_stop
from actions.handoff import send_email, send_sms
from actions.identity import identify, proven_customer_id
from actions.responder import respond
from actions.questions import answer_question, is_question
from actions.settings import get_settings
from actions.texts import say
from actions.turns import turn_key
from actions.verification import code_store
from core.commerce7 import account_changes
from core.commerce7.errors import Commerce7Error
from core.commerce7.models import Customer
from core.commerce7.outbox import Outbox
from core.commerce7.signup import keep_for_staff
from core.texts import render

log = logging.getLogger(__name__)

ADDRESS = ["change_street", "change_city", "change_state", "change_zip"]
FORM_SLOTS = ["change_field", *ADDRESS, "new_contact", "contact_code", "change_reason", "change_confirmed"]
DONE_SLOTS = [*FORM_SLOTS, "change_plan", "change_kind", "change_requested", "form_blocked", "requested_slot"]
VERIFIED = "verified"
WRITE_BUDGET_S = 10.0
SEND_BUDGET_S = 8.0
BUDGET_S = 8.0
_HOLD = re.compile(r"\b(hold|pause|skip|suspend|break|freeze|stop (it )?for)\b", re.I)
_TO_PICKUP = re.compile(r"\b(to|for|instead of shipping,?)\s+(pick ?up|pickup|collect)|\bpick(ing)? ?(it |them )?up\b|"
                        r"\bpickup instead\b|\bcollect\b|\bcome (get|pick)", re.I)
_TO_SHIP = re.compile(r"\b(to|for)\s+(ship|shipping|delivery|deliver)|\b(ship|deliver|mail|send)(ed)? (it|them|my|to)\b|"
                      r"\bshipping instead\b|\bship instead\b", re.I)
_RESEND = re.compile(r"\b(new|another|resend|send (it )?again|didn'?t (get|arrive|come)|never (got|came|arrived)|"
                     r"no code)\b", re.I)
_CODE = re.compile(r"^\d{6}$")
_POLICY_QUESTION = re.compile(r"^\s*(can|could|do|does|is|are|may|how)\b|\?\s*$", re.I)
_PLAIN_STOP = re.compile(r"^\s*(never ?mind|nevermind|forget it|stop|don'?t bother)\W*$", re.I)


def field_in(text: str) -> Optional[str]:
    """email | phone | address named in the customer's words."""
    low = text.casefold()
    if re.search(r"e-?mail", low):
        return "email"
    if re.search(r"\b(phone|cell|mobile|number)\b", low):
        return "phone"
    if re.search(r"\b(address|moved|move|street|live)\b", low):
        return "address"
    return None


def kind_from(intent: str, text: str) -> Optional[str]:
    if intent == "change_club_delivery":
        return "club_delivery"
    if intent == "change_club_address":
        return "club_address"
    if intent == "cancel_or_pause_club":
        return "club_hold" if _HOLD.search(text) else "club_cancel"
    if intent == "change_my_details":
        field = field_in(text)
        return f"details_{field}" if field else "details"
    return None


_NOT_WANTED = re.compile(r"\b(instead of|rather than|from|not|no more|stop|quit)\s+(having (it|them) )?"
                         r"(pick ?up|pickup|picking up|collecting|shipping|ship(ped|ping)?( it| them)?|delivery)\b", re.I)


def wanted_method(text: str, current: Optional[str]) -> str:
    """Pickup or Ship, from what the customer asks for ("instead of pickup" names what they leave)."""
    text = _NOT_WANTED.sub(" ", text)
    if _TO_PICKUP.search(text) and not _TO_SHIP.search(text):
        return "Pickup"
    if _TO_SHIP.search(text) and not _TO_PICKUP.search(text):
        return "Ship"
    return "Ship" if current == "Pickup" else "Pickup"


def _reset() -> List[Dict[str, Any]]:
    return [SlotSet(s, None) for s in FORM_SLOTS]


def ready(plan: Dict[str, Any], **given: Any) -> List[Dict[str, Any]]:
    """The events that start account_change_form with this plan; `given`: form slots the request already
    answered ("change my email to x@y.com"), validated as the form starts."""
    return [*_reset(), *[SlotSet(k, v) for k, v in given.items()], SlotSet("form_blocked", None),
            SlotSet("change_plan", plan), SlotSet("verification_needed", None), SlotSet("change_requested", True)]


async def plan_change(dispatcher: CollectingDispatcher, tracker: Tracker, customer: Customer,
                      kind: str) -> List[Dict[str, Any]]:
    """What the change needs, worked out from the account; the form then asks for the rest."""
    base = {"kind": kind, "customer_id": customer.id, "customer_email": customer.email or ""}
    if kind.startswith("details"):
        field = kind.partition("_")[2] or None
        words = _request_text(tracker)
        typed = v.email(words) if field == "email" else v.phone(words) if field == "phone" else None
        return ready({**base, "field": field}, **({"new_contact": typed} if typed else {}))
    client = get_client()
    try:
        membership = await active_membership(client, customer.id)
        if membership is None:
            say(dispatcher, "utter_change_not_member", contact=contact_line("wine_club"))
            return idle_events()
        plan = {**base, "membership_id": membership.id, "tier": tier_of(membership),
                "current": membership.order_delivery_method}
        if kind in ("club_cancel", "club_hold"):
            say(dispatcher, "utter_club_retention")
            return ready(plan)
        if kind == "club_address":
            return ready({**plan, "method": "Ship"})
        method = wanted_method(_request_text(tracker), membership.order_delivery_method)
        if method == membership.order_delivery_method and method == "Pickup":
            location = await pickup_location(client, membership.pickup_location_id)
            say(dispatcher, "utter_change_already", tier=plan["tier"], delivery=render(
                "utter_club_delivery_pickup", location=location.title if location and location.title else "the winery"))
            return idle_events()
        if method == "Pickup":
            location = await pickup_location(client, membership.pickup_location_id)
            if location is None:
                say(dispatcher, "utter_account_unavailable", contact=contact_line("wine_club"))
                return idle_events()
            return ready({**plan, "method": "Pickup", "location_id": location.id,
                          "location": location.title or "the winery"})
        if membership.order_delivery_method == "Ship":   # already shipping (a new address is change_club_address)
            address = await ship_to(client, customer.id, membership.ship_to_address_id)
            say(dispatcher, "utter_change_already", tier=plan["tier"], delivery=render(
                "utter_club_delivery_ship", address=present.address_line(address.raw) if address else "your address"))
            return idle_events()
        addresses = await asyncio.wait_for(client.list_addresses(customer.id), BUDGET_S)
        default = next((a for a in addresses if a.is_default), addresses[0] if addresses else None)
        if default is not None and v.allowed_ship_state(default.state_code or ""):
            return ready({**plan, "method": "Ship", "address_id": default.id,
                          "address_text": present.address_line(default.raw)})
        return ready({**plan, "method": "Ship"})
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("membership lookup failed: %s", type(exc).__name__)
        say(dispatcher, "utter_account_unavailable", contact=contact_line("wine_club"))
        return idle_events()


def _request_text(tracker: Tracker) -> str:
    """The words of the request that started the change (after a code, the message before it)."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") in (
                "change_club_delivery", "change_club_address", "cancel_or_pause_club", "change_my_details"):
            return clean_text(event.get("text"))
    return latest_text(tracker)


@finishes(PURPOSE_CHANGE)
async def change_after_proof(dispatcher: CollectingDispatcher, tracker: Tracker,
                             customer: Customer) -> List[Dict[str, Any]]:
    kind = tracker.get_slot("change_kind")
    if not isinstance(kind, str):
        return idle_events()
    return await plan_change(dispatcher, tracker, customer, kind)


class ActionStartAccountChange(Action):
    def name(self) -> Text:
        return "action_start_account_change"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        text = latest_text(tracker)
        kind = kind_from(latest_intent(tracker), text)
        if kind is None:
            return idle_events()
        if kind.startswith("club") and _POLICY_QUESTION.search(text) and identify(tracker, get_settings()) is None:
            # "can I just pick it up instead?" from someone not signed in asks how the club works: the
            # club's answer, not a proof step (a proven member's question is their request: read back first)
            outcome = await respond(dispatcher, tracker, intent="ask_club")
            return [*outcome.events, *idle_events()]
        gate = await owner(dispatcher, tracker, PURPOSE_CHANGE)
        events = [SlotSet("change_kind", kind), *gate.events]
        if gate.customer is None:
            return events
        return [*events, *await plan_change(dispatcher, tracker, gate.customer, kind)]


def needed(plan: Dict[str, Any], tracker: Tracker) -> List[str]:
    kind = plan.get("kind")
    if kind in ("club_cancel", "club_hold"):
        return ["change_reason"]
    if kind == "club_delivery" and (plan.get("method") == "Pickup" or plan.get("address_id")):
        return ["change_confirmed"]
    if kind in ("club_delivery", "club_address"):
        return [*ADDRESS, "change_confirmed"]
    field = plan.get("field") or tracker.get_slot("change_field")
    if field in ("email", "phone"):
        return ["new_contact", "contact_code", "change_confirmed"]
    if field == "address":
        return [*ADDRESS, "change_confirmed"]
    return ["change_field"]


def contact_target(contact: str) -> str:
    return "newcontact:" + hashlib.sha256(contact.strip().casefold().encode()).hexdigest()[:24]


async def send_contact_code(sender_id: str, contact: str, by_email: bool) -> str:
    """sent | limited | failed | unavailable: a code to the NEW email or phone (never logged)."""
    settings = get_settings()
    if not (settings.email_codes_enabled if by_email else settings.sms_codes_enabled):
        return "unavailable"
    issued = code_store().issue(contact_target(contact), sender_id)
    if issued.code is None:
        return "limited"
    minutes = max(1, round(settings.verification_code_ttl_s / 60))
    deadline = time.monotonic() + SEND_BUDGET_S
    if by_email:
        ok = await send_email(settings, render("utter_verify_code_email_subject"),
                              render("utter_verify_code_email", code=issued.code, minutes=minutes), deadline, to=contact)
    else:
        ok = await send_sms(settings, render("utter_verify_code_sms", code=issued.code, minutes=minutes), deadline,
                            to=contact)
    return "sent" if ok else "failed"


# The slots read straight from what was typed: (reader: text -> value or None, the retry prompt).
READERS: Dict[str, Tuple[Callable[[str], Optional[str]], str]] = {
    "change_field": (field_in, "utter_change_field_retry"),
    "change_street": (v.street, "utter_change_street_retry"),
    "change_city": (v.city, "utter_change_city_retry"),
    "change_state": (v.us_state, "utter_change_state_retry"),   # a club's ship-to address: states it ships to
    "change_zip": (v.zip_code, "utter_change_zip_retry"),
}


class ValidateAccountChangeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_account_change_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        plan = tracker.get_slot("change_plan")
        if tracker.get_slot("form_blocked") or not isinstance(plan, dict):
            return []
        return needed(plan, tracker)

    async def _off_track(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict,
                         slot: str, retry: str, **values: Any) -> Dict[Text, Any]:
        """A value that did not fit: a question is answered, anything else gets the retry prompt."""
        if is_question(tracker):
            await answer_question(dispatcher, tracker, domain)
        else:
            say(dispatcher, retry, **values)
        return {slot: None}

    def _plan(self, tracker: Tracker) -> Dict[str, Any]:
        plan = tracker.get_slot("change_plan")
        return plan if isinstance(plan, dict) else {}

    def __getattr__(self, name: str) -> Any:
        """`validate_<slot>` for the slots of READERS: rasa-sdk finds each validator by that name."""
        slot = name[len("validate_"):] if name.startswith("validate_") else ""
        if slot in READERS:
            return functools.partial(self._read, slot)
        raise AttributeError(name)

    async def _read(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: DomainDict) -> Dict[Text, Any]:
        """A slot of READERS from what was typed: its reader's value, or the retry prompt."""
        if value is None:   # reset when the form starts: not an answer
            return {slot: None}
        if wants_to_stop(tracker):
            return {slot: None, "form_blocked": "stopped"}
        reader, retry = READERS[slot]
        read = reader(clean_text(value))
        if read is None:
            return await self._off_track(dispatcher, tracker, domain, slot, retry)
        if slot == "change_state" and str(self._plan(tracker).get("kind", "")).startswith("club") \
                and not v.allowed_ship_state(read):
            states = ", ".join(v.STATE_NAMES[s] for s in v.club_rules()["ships_to_states"])
            say(dispatcher, "utter_change_state_not_allowed", states=states)
            return {slot: None}
        return {slot: read}

    async def validate_new_contact(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        if value is None:   # reset when the form starts: not an answer
            return {"new_contact": None}
        if wants_to_stop(tracker):
            return {"new_contact": None, "form_blocked": "stopped"}
        plan = self._plan(tracker)
        field = plan.get("field") or tracker.get_slot("change_field")
        typed = clean_text(value)
        contact = v.email(typed) if field == "email" else v.phone(typed)
        if contact is None:
            return await self._off_track(dispatcher, tracker, domain, "new_contact", "utter_change_contact_retry")
        try:
            customer = await asyncio.wait_for(get_client().get_customer(str(plan.get("customer_id"))), BUDGET_S)
        except (Commerce7Error, asyncio.TimeoutError):
            say(dispatcher, "utter_account_unavailable", contact=contact_line())
            return {"new_contact": None, "form_blocked": "unavailable"}
        if (field == "email" and customer.has_email(contact)) or (field == "phone" and customer.has_phone(contact)):
            say(dispatcher, "utter_change_same_contact")
            return {"new_contact": None, "form_blocked": "same"}
        sent = await send_contact_code(tracker.sender_id, contact, field == "email")
        if sent == "sent":
            say(dispatcher, "utter_change_code_sent", new=contact,
                minutes=max(1, round(get_settings().verification_code_ttl_s / 60)))
            return {"new_contact": contact}
        if sent == "failed":
            say(dispatcher, "utter_change_code_failed", new=contact)
            return {"new_contact": None}
        if sent == "limited":
            say(dispatcher, "utter_verify_rate_limited", contact=contact_line())
        else:
            say(dispatcher, "utter_change_contact_cannot_verify", url=get_settings().store_account_url)
        return {"new_contact": None, "form_blocked": sent}

    async def validate_contact_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        if value is None:   # reset when the form starts: not an answer
            return {"contact_code": None}
        if wants_to_stop(tracker):
            return {"contact_code": None, "form_blocked": "stopped"}
        contact = tracker.get_slot("new_contact")
        if not isinstance(contact, str):
            return {"contact_code": None}
        typed = clean_text(value)
        if _RESEND.search(typed):
            field = self._plan(tracker).get("field") or tracker.get_slot("change_field")
            sent = await send_contact_code(tracker.sender_id, contact, field == "email")
            if sent == "sent":
                say(dispatcher, "utter_change_code_sent", new=contact,
                    minutes=max(1, round(get_settings().verification_code_ttl_s / 60)))
                return {"contact_code": None}
            say(dispatcher, "utter_verify_rate_limited" if sent == "limited" else "utter_verify_send_failed",
                contact=contact_line())
            return {"contact_code": None, "form_blocked": sent}
        digits = re.sub(r"[\s.-]", "", typed)
        if not _CODE.match(digits):
            return await self._off_track(dispatcher, tracker, domain, "contact_code", "utter_verify_code_format")
        result = code_store().check(contact_target(contact), tracker.sender_id, digits)
        if result.ok:
            return {"contact_code": VERIFIED}
        if result.outcome == "wrong":
            if result.attempts_left == 1:
                say(dispatcher, "utter_verify_code_wrong_last")
            else:
                say(dispatcher, "utter_verify_code_wrong", left=result.attempts_left)
            return {"contact_code": None}
        if result.outcome in ("expired", "none"):
            say(dispatcher, "utter_verify_code_expired")
            return {"contact_code": None}
        say(dispatcher, "utter_verify_code_locked", contact=contact_line())
        return {"contact_code": None, "form_blocked": "locked"}

    async def validate_change_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        if value is None:   # reset when the form starts: not an answer
            return {"change_reason": None}
        reason = clean_text(value, 500)
        # "cancel it, we're moving" is the reason, not a stop: only a plain "never mind" stops here
        if latest_intent(tracker) == "stop" or _PLAIN_STOP.match(reason):
            return {"change_reason": None, "form_blocked": "stopped"}
        return {"change_reason": reason or "(no reason given)"}

    async def validate_change_confirmed(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> Dict[Text, Any]:
        if value is None:   # reset when the form starts: not an answer
            return {"change_confirmed": None}
        if value is True:
            return {"change_confirmed": True}
        if value is False or wants_to_stop(tracker):
            return {"change_confirmed": False}
        say(dispatcher, "utter_change_confirmed_retry")
        return {"change_confirmed": None}


def new_address(tracker: Tracker) -> Dict[str, str]:
    get = tracker.get_slot
    return {"address": get("change_street") or "", "city": get("change_city") or "", "stateCode": get("change_state") or "",
            "zipCode": get("change_zip") or "", "countryCode": "US"}


# the read-back and the confirmation of each kind of change (named whole: scripts/validate_domain.py)
SUMMARIES = {"pickup": "utter_change_summary_pickup", "ship": "utter_change_summary_ship",
             "email": "utter_change_summary_email", "phone": "utter_change_summary_phone",
             "address": "utter_change_summary_address"}
DONE = {"pickup": "utter_change_done_pickup", "ship": "utter_change_done_ship", "email": "utter_change_done_email",
        "phone": "utter_change_done_phone", "address": "utter_change_done_address"}


def summary(plan: Dict[str, Any], tracker: Tracker) -> tuple[str, Dict[str, Any]]:
    """(the response that reads the change back, its values)."""
    kind = plan.get("kind")
    field = plan.get("field") or tracker.get_slot("change_field")
    if kind == "club_delivery" and plan.get("method") == "Pickup":
        return "pickup", {"tier": plan.get("tier"), "location": plan.get("location")}
    if kind in ("club_delivery", "club_address"):
        address = plan.get("address_text") or present.address_line(new_address(tracker))
        return "ship", {"tier": plan.get("tier"), "address": address}
    if field in ("email", "phone"):
        return field, {"new": tracker.get_slot("new_contact")}
    return "address", {"address": present.address_line(new_address(tracker))}


class ActionAskChangeConfirmed(Action):
    """The read-back: exactly what will change, then yes or no."""

    def name(self) -> Text:
        return "action_ask_change_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        plan = tracker.get_slot("change_plan")
        if not isinstance(plan, dict):
            return []
        what, values = summary(plan, tracker)
        say(dispatcher, "utter_change_readback", summary=render(SUMMARIES[what], **values))
        return []


def payload_of(plan: Dict[str, Any], tracker: Tracker) -> tuple[str, Dict[str, Any]]:
    """(outbox kind, payload) of a confirmed change."""
    kind = plan.get("kind")
    base = {"customer_id": plan["customer_id"], "customer_email": plan.get("customer_email", "")}
    if kind == "club_delivery" and plan.get("method") == "Pickup":
        return "club_delivery", {**base, "membership_id": plan["membership_id"], "method": "Pickup",
                                 "pickup_location_id": plan["location_id"]}
    if kind == "club_delivery" and plan.get("address_id"):
        return "club_delivery", {**base, "membership_id": plan["membership_id"], "method": "Ship",
                                 "address_id": plan["address_id"]}
    if kind in ("club_delivery", "club_address"):
        return "club_address", {**base, "membership_id": plan["membership_id"], "address": new_address(tracker)}
    field = plan.get("field") or tracker.get_slot("change_field")
    if field in ("email", "phone"):
        return f"customer_{field}", {**base, "new": tracker.get_slot("new_contact")}
    return "customer_address", {**base, "address": new_address(tracker)}


class ActionAccountChangeDone(Action):
    """After account_change_form: the write (or the staff task), and what the customer hears."""

    def name(self) -> Text:
        return "action_account_change_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        done = [SlotSet(s, None) for s in DONE_SLOTS]
        plan = tracker.get_slot("change_plan")
        blocked = tracker.get_slot("form_blocked")
        if not isinstance(plan, dict):
            return done
        if blocked == "stopped":
            say(dispatcher, "utter_change_stopped")
            return done
        if blocked:
            return done
        settings = get_settings()
        owner_id = await proven_customer_id(tracker, settings, get_client())
        if owner_id != plan.get("customer_id"):
            say(dispatcher, "utter_change_need_proof")
            return done
        outbox = Outbox(settings.outbox_database)
        kind = plan.get("kind")
        if kind in ("club_cancel", "club_hold"):
            reason = tracker.get_slot("change_reason") or "(no reason given)"
            task = "club_cancel_request" if kind == "club_cancel" else "club_hold_request"
            asks = "cancel" if kind == "club_cancel" else "put on hold"
            keep_for_staff(outbox, task, account_changes.change_key(task, owner_id),
                           {"customer_id": owner_id, "customer_email": plan.get("customer_email", ""),
                            "membership_id": plan.get("membership_id"), "tier": plan.get("tier"), "reason": reason},
                           f"Member asks to {asks} the {plan.get('tier')} membership. Reason: {reason}",
                           request=turn_key(tracker))
            say(dispatcher, "utter_club_cancel_passed_on" if kind == "club_cancel" else "utter_club_hold_passed_on",
                tier=plan.get("tier"))
            return done
        if tracker.get_slot("change_confirmed") is not True:
            say(dispatcher, "utter_change_declined")
            return done
        what, values = summary(plan, tracker)
        api_kind, payload = payload_of(plan, tracker)
        outcome = await account_changes.submit(outbox, get_client(), api_kind, payload, turn_key(tracker) or "",
                                               WRITE_BUDGET_S)
        if outcome.state == "done":
            say(dispatcher, DONE[what], **values)
        elif outcome.state == "queued":
            say(dispatcher, "utter_change_queued")
        else:
            log.warning("account change refused by Commerce7 (%s): kept for staff", api_kind)
            say(dispatcher, "utter_change_refused", contact=contact_line())
        return done
