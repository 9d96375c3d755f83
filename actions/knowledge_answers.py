"""Questions answered from knowledge/: visiting, club, loyalty, events, about,
and the low-confidence fallback that searches every domain. A follow-up about
a subject ("which one is cheaper?") is answered by actions/responder.py first."""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, latest_text, with_link
from actions.knowledge.service import get_service
from actions.questions import reads_as_question
from actions.responder import Outcome, clearly_found, knowledge_of, respond, slots_before_turn, winery_intent_of
from actions.subject import Subject
from actions.texts import say

log = logging.getLogger(__name__)



class ActionAnswerKnowledge(Action):
    def name(self) -> Text:
        return "action_answer_knowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        return (await respond(dispatcher, tracker)).events


async def search_everything(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
    """The fallback's own answer: the topic being talked about when its knowledge clearly answers ("did I
    get anything extra for signing up?" after Milea Miles), else every domain of the knowledge base, or
    a clarifying question."""
    question = latest_text(tracker)
    topic = Subject.from_slots(slots_before_turn(tracker).get).topic
    if question and topic in TOPIC_INTENTS:
        answer = await knowledge_of(tracker, question, topic)
        if answer.found and not answer.widened:   # found in the topic's own part of the knowledge
            dispatcher.utter_message(text=with_link(answer.text, answer.url))
            return Outcome([SlotSet("subject_topic", topic)])
    answer = await get_service().answer(question, None) if question else None
    if answer and answer.found:
        dispatcher.utter_message(text=with_link(answer.text, answer.url))
    else:
        say(dispatcher, "utter_not_understood")
    return Outcome()


class ActionAnswerFallback(Action):
    def name(self) -> Text:
        return "action_answer_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        form = form_wanted(tracker)
        if form:   # "great, sign me up for that one", read too unsurely as join_club: the signup itself
            return [FollowupAction(form)]
        return (await respond(dispatcher, tracker, default=search_everything)).events


# The knowledge topics an off-topic-sounding follow-up may belong to, and how short it must be.
TOPIC_INTENTS = ("ask_events", "ask_club", "ask_loyalty", "ask_visit_policies", "ask_reservation", "ask_tastings",
                 "ask_about", "ask_location", "ask_shipping")
FOLLOW_UP_WORDS = 12

# The forms a plain "sign me up" starts, by the intent NLU ranked first but below the threshold.
FORM_OF_INTENT = {"join_club": "club_signup_form", "subscribe": "subscribe_form"}
FORM_RUNNER_UP_MIN = 0.3
_SIGN_ME_UP = re.compile(r"\b(sign (me|us) up|count (me|us) in|enrol+ (me|us)|(i|we)('?ll| will| wanna| want to) join|"
                         r"let'?s (do it|join)|add (me|us)|subscribe (me|us)|(i|we)'?m in|(i|we) want in)\b", re.I)


def form_wanted(tracker: Tracker) -> str:
    """The form an unsure message plainly asks to start (not a question about it), else ''."""
    text = latest_text(tracker)
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    top: dict = next((r for r in ranking if r.get("name") != "nlu_fallback"), {})   # the fallback ranks itself first
    form = FORM_OF_INTENT.get(top.get("name") or "")
    if not form or float(top.get("confidence") or 0) < FORM_RUNNER_UP_MIN or "?" in text or tracker.active_loop_name:
        return ""
    return form if _SIGN_ME_UP.search(text) else ""


class ActionAnswerOutOfScope(Action):
    """out_of_scope: the polite refusal, unless the message is about the winery after all
    (actions/answering/scope.py); then it is answered as the winery question it is."""

    # the winery's words beside a runner-up winery intent count too (a yes or a no needs more)
    runner_up = True

    def name(self) -> Text:
        return "action_answer_out_of_scope"

    def refusal(self, intent: str) -> str:
        return "utter_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        intent = await winery_intent_of(tracker, self.runner_up)
        if intent is None and self.runner_up:
            topic = Subject.from_slots(slots_before_turn(tracker).get).topic
            text = latest_text(tracker)
            if topic in TOPIC_INTENTS and reads_as_question(text) and len(text.split()) <= FOLLOW_UP_WORDS:
                # "what taxes and fees get added on top?" in a talk about weddings: the topic's
                # knowledge, when it clearly answers (else the refusal, as before)
                answer = await knowledge_of(tracker, text, topic)
                if clearly_found(answer):
                    dispatcher.utter_message(text=with_link(answer.text, answer.url))
                    return [SlotSet("subject_topic", topic)]
        if intent is None:
            say(dispatcher, self.refusal(latest_intent(tracker)))
            return []
        return (await respond(dispatcher, tracker, intent=intent)).events


class ActionAnswerIdle(ActionAnswerOutOfScope):
    """A yes or a no outside any flow: the idle reply, unless it carries a question about a thing of
    the winery or the subject being talked about ("is there a vintage on it or nah?")."""

    runner_up = False
    REPLIES = {"affirm": "utter_affirm_idle", "deny": "utter_deny_idle"}

    def name(self) -> Text:
        return "action_answer_idle"

    def refusal(self, intent: str) -> str:
        return self.REPLIES.get(intent, "utter_deny_idle")
