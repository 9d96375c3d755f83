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
from actions.knowledge.service import INTENT_DOMAINS, get_service
from actions.questions import reads_as_question
from actions.responder import FOLLOW_UP_TOPICS, Outcome, clearly_found, knowledge_of, respond, slots_before_turn, winery_intent_of
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
    answer = await get_service().answer(question, None) if question else None
    topic = Subject.from_slots(slots_before_turn(tracker).get).topic
    if question and topic in FOLLOW_UP_TOPICS:
        in_topic = await get_service().answer(question, topic)
        # found in the topic's own part of the knowledge, and about as well as anywhere else ("how much
        # is the hat if I just buy it?" after Milea Miles is the shop's hat, not the reward)
        if in_topic.found and not in_topic.widened and (not answer or not answer.found or not in_topic.hits
                                                        or in_topic.hits[0].score >= answer.hits[0].score - TOPIC_MARGIN):
            dispatcher.utter_message(text=with_link(in_topic.text, in_topic.url))
            return Outcome([SlotSet("subject_topic", topic)])
    if question and not clearly_found(answer):
        # read in the conversation: "who oversees the guest side?" is a person, "how many can stay there?"
        # the place just talked about
        answer = await knowledge_of(tracker, question, None)
    if answer and answer.found:
        dispatcher.utter_message(text=with_link(answer.text, answer.url))
        # what it found is the topic a follow-up ("what would it cost the others?") continues
        found_topic = topic_of(answer.sources[0]) if answer.sources else None
        return Outcome([SlotSet("subject_topic", found_topic)] if found_topic else [])
    say(dispatcher, "utter_not_understood")
    return Outcome()


def topic_of(source: str) -> str | None:
    """The knowledge topic (an intent of FOLLOW_UP_TOPICS) a passage's file belongs to, by its folder."""
    domain = source.split("/", 1)[0]
    return next((i for i in FOLLOW_UP_TOPICS if domain in INTENT_DOMAINS.get(i, ())), None)


class ActionAnswerFallback(Action):
    def name(self) -> Text:
        return "action_answer_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        form = form_wanted(tracker)
        if form:   # "great, sign me up for that one", read too unsurely as join_club: the signup itself
            return [FollowupAction(form)]
        return (await respond(dispatcher, tracker, default=search_everything)).events


# How short an off-topic-sounding follow-up must be to belong to the topic (FOLLOW_UP_TOPICS).
FOLLOW_UP_WORDS = 12
TOPIC_MARGIN = 0.1   # how much better a passage elsewhere must be found to leave the topic

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
            if topic in FOLLOW_UP_TOPICS and reads_as_question(text) and len(text.split()) <= FOLLOW_UP_WORDS:
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
