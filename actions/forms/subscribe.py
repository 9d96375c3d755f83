"""subscribe: the subscribe_form (email, optional first name) and the Commerce7 write.

A new email becomes a Subscribed customer. An existing customer is never changed from the
chat: whether they are subscribed is said only to the owner (proven as in actions/identity.py),
and a customer who unsubscribed is not subscribed again: the request is kept for staff.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import validators as v
from actions.turns import turn_key
from actions.commerce7.connection import get_client
from core.commerce7.errors import Commerce7Error, ValidationError
from core.commerce7.outbox import Outbox
from core.commerce7.signup import keep_for_staff, subscribe_key
from actions.forms.base import GuidedForm, reset_events
from actions.forms.club_signup import name_answer
from actions.identity import proven_customer_id
from actions.texts import say
from actions.settings import get_settings

log = logging.getLogger(__name__)

FORM_SLOTS = ["email", "first_name", "confirm_stop", "stop_requested", "form_blocked", "form_failures"]
NO_NAME = "-"
_SKIP = re.compile(r"^\s*(skip|no|nope|no thanks|rather not|pass|none|n/a)\b", re.I)


def _optional_name(text: str) -> Optional[str]:
    if isinstance(text, str) and _SKIP.match(text):
        return NO_NAME
    return name_answer(text)


class ValidateSubscribeForm(GuidedForm):
    form = "subscribe_form"
    rules = {
        "email": (v.email, "utter_retry_subscribe_form_email", "utter_explain_subscribe_form_email"),
        "first_name": (_optional_name, "utter_retry_subscribe_form_first_name",
                                       "utter_explain_subscribe_form_first_name"),
    }

    def slots_for(self, tracker: Tracker, slots: List[Text]) -> List[Text]:
        return [s for s in slots if s in self.rules]

    async def validate_email(self, value, dispatcher, tracker, domain):
        return await self.check("email", value, dispatcher, tracker, domain)

    async def validate_first_name(self, value, dispatcher, tracker, domain):
        return await self.check("first_name", value, dispatcher, tracker, domain)


class ActionSubmitSubscribe(Action):
    def name(self) -> Text:
        return "action_submit_subscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        if tracker.get_slot("form_blocked") == "stopped":
            say(dispatcher, "utter_form_stopped")
            return reset_events(FORM_SLOTS)
        email = tracker.get_slot("email")
        name = tracker.get_slot("first_name")
        name = None if name in (None, NO_NAME) else name
        if not email:
            return reset_events(FORM_SLOTS)
        settings = get_settings()
        try:
            result = await asyncio.wait_for(get_client().subscribe(email, name), 10.0)
        except (Commerce7Error, asyncio.TimeoutError) as exc:
            outbox = Outbox(settings.outbox_database)
            job = outbox.enqueue("subscribe", subscribe_key(email), {"email": email, "first_name": name},
                                 type(exc).__name__, request=turn_key(tracker))
            if isinstance(exc, ValidationError):
                outbox.mark_attention(job, str(exc))
            log.warning("subscription deferred to the outbox: %s", type(exc).__name__)
            say(dispatcher, "utter_subscribe_saved_for_later")
            return reset_events(FORM_SLOTS)
        events = reset_events(FORM_SLOTS)
        if result.created:
            # Typing an email proves nothing: the chat is not verified for the account it just made (the
            # email may be someone else's, whose orders and points would follow).
            say(dispatcher, "utter_subscribed")
            return events
        owner = await proven_customer_id(tracker, settings, get_client()) == result.customer_id
        if not result.already_subscribed:
            keep_for_staff(Outbox(settings.outbox_database), "subscribe_review", "review:" + subscribe_key(email),
                           {"email": email, "first_name": name, "owner_verified": owner},
                           "existing customer not subscribed: confirm consent before subscribing",
                           request=turn_key(tracker))
        if owner:
            say(dispatcher, "utter_already_subscribed" if result.already_subscribed else "utter_subscribe_opted_out")
        else:
            say(dispatcher, "utter_subscribe_received")
        return events
