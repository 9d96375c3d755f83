"""Conversations through the real REST channel of a running assistant."""
from __future__ import annotations

import uuid

import yaml

from tests.integration.stack import ROOT, texts

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def sender() -> str:
    return f"it-{uuid.uuid4().hex[:8]}"


def test_greeting_says_what_the_assistant_can_do(stack):
    replies = stack.say(sender(), "hi there")
    assert "virtual assistant" in texts(replies)
    assert any(r.get("buttons") for r in replies)


def test_hours_now_and_a_follow_up_day(stack):
    user = sender()
    assert "open right now until 7:00 PM" in texts(stack.say(user, "are you open right now?"))
    follow_up = texts(stack.say(user, "and on sunday?"))
    assert "Sunday, November 29" in follow_up and "5:00 PM" in follow_up


def test_wine_follow_up_resolves_against_the_wine_just_discussed(stack):
    user = sender()
    first = texts(stack.say(user, "tell me about the reserve cabernet franc"))
    assert "Reserve Cabernet Franc" in first
    assert "$45" in texts(stack.say(user, "how much is it?"))


def test_knowledge_questions(stack):
    user = sender()
    assert "leash" in texts(stack.say(user, "can i bring my dog?")).lower()
    shipping = texts(stack.say(user, "can you ship wine to florida?"))
    assert "FL" in shipping or "Florida" in shipping


def test_out_of_scope_is_refused_politely(stack):
    reply = texts(stack.say(sender(), "what's the weather in paris tomorrow?"))
    assert "Milea" in reply and "weather" not in reply.lower()


def test_a_response_sent_by_name_arrives_in_words_with_its_buttons(stack):
    # action_answer_wine sends utter_clarify_no_subject by name: Rasa's NLG picks the web version
    web, sms = DOMAIN["responses"]["utter_clarify_no_subject"]
    assert "channel" not in web and sms["channel"] == "twilio"
    [reply] = stack.say(sender(), "how much is it?")
    assert reply["text"] == web["text"]
    assert [b["payload"] for b in reply["buttons"]] == [b["payload"] for b in web["buttons"]]
