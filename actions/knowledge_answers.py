"""Questions answered from knowledge/: visiting, club, loyalty, events, about,
and the low-confidence fallback that searches every domain. A follow-up about
a subject ("which one is cheaper?") is answered by actions/responder.py first."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, latest_text, with_link
from actions.knowledge.service import get_service
from actions.responder import Outcome, respond, winery_intent_of
from actions.texts import say

log = logging.getLogger(__name__)



class ActionAnswerKnowledge(Action):
    def name(self) -> Text:
        return "action_answer_knowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict]:
        return (await respond(dispatcher, tracker)).events


async def search_everything(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> Outcome:
    """The fallback's own answer: every domain of the knowledge base, or a clarifying question."""
    question = latest_text(tracker)
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
        return (await respond(dispatcher, tracker, default=search_everything)).events


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
