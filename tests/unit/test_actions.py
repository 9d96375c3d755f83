"""Actions as the action server runs them: Tracker in, messages and events out."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge.service as service_module
from actions.commerce7 import catalog
from actions.knowledge_answers import ActionAnswerFallback, ActionAnswerKnowledge
from actions.forms.feedback import ActionSubmitFeedback
from actions.handoff import ActionHandoff
from actions.wine import ActionAnswerWine


@pytest.fixture(autouse=True)
def use_test_service(service, monkeypatch):
    # The actions get the session's knowledge service (built on a temp index).
    monkeypatch.setattr(service_module, "_service", service)


def tracker(text, intent, entities=(), slots=None):
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9},
               "entities": [{"entity": e, "value": v} for e, v in entities]}
    return Tracker("test-user", slots or {}, message, [], False, None, {}, "")


def run(action, t):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def test_knowledge_question_is_answered_from_its_domain():
    messages, _ = run(ActionAnswerKnowledge(), tracker("which states can you ship to", "ask_shipping"))
    text = messages[0]["text"]
    for state in ("NY", "DC", "FL", "MN", "AK"):
        assert state in text


def test_button_payload_uses_the_intent_default_question():
    messages, _ = run(ActionAnswerKnowledge(), tracker("/ask_tastings", "ask_tastings"))
    assert "tasting" in messages[0]["text"].lower()


def test_wine_question_remembers_the_wine_for_a_follow_up():
    messages, events = run(ActionAnswerWine(), tracker("tell me about the reserve cab franc", "ask_wine"))
    assert "Reserve Cabernet Franc" in messages[0]["text"]
    assert {"event": "slot", "name": "wine", "value": "Reserve Cabernet Franc"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events]
    messages, _ = run(ActionAnswerWine(), tracker("how much is it?", "ask_wine", slots={"wine": "Reserve Cabernet Franc"}))
    assert messages[0]["text"] == "The 2022 Reserve Cabernet Franc is $45 a bottle. It's in stock."


def test_price_comes_from_live_commerce7_data(emulator):
    catalog.clear()
    product = next(p for p in emulator.state["products"].values() if p["title"] == "Farmhouse Chardonnay")
    product["variants"][0]["price"] = 3300  # the winery changed the price in Commerce7
    try:
        messages, _ = run(ActionAnswerWine(), tracker("how much is the farmhouse chardonnay", "ask_wine"))
        assert "$33 a bottle" in messages[0]["text"]
    finally:
        product["variants"][0]["price"] = 3000
        catalog.clear()


def test_price_is_never_quoted_from_prose_when_commerce7_is_down(emulator):
    catalog.clear()
    emulator.set_faults(down=True)
    try:
        messages, _ = run(ActionAnswerWine(), tracker("price of the reserve chardonnay", "ask_wine"))
    finally:
        emulator.set_faults(down=False)
    assert "can't check the current price" in messages[0]["text"] and "$" not in messages[0]["text"]


def test_fuzzy_names_resolve_to_one_wine():
    catalog.clear()
    messages, events = run(ActionAnswerWine(), tracker("is the queen of the meadow in stock", "ask_wine"))
    assert "Queen of the Meadow Rose" in messages[0]["text"] and "in stock" in messages[0]["text"]


def test_ambiguous_wine_name_offers_buttons():
    messages, events = run(ActionAnswerWine(), tracker("what does the chardonnay taste like", "ask_wine"))
    titles = [b["title"] for b in messages[0].get("buttons", [])]
    assert set(titles) == {"Farmhouse Chardonnay", "Reserve Chardonnay"}
    # no wine is assumed; the candidates are kept so that "the reserve one" resolves
    assert not [e for e in events if e["name"] == "wine"]
    assert {"event": "slot", "name": "subject_options", "value": ["Farmhouse Chardonnay", "Reserve Chardonnay"]} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events]


def test_wine_the_winery_does_not_make_is_answered_honestly():
    messages, _ = run(ActionAnswerWine(), tracker("do you make a pinot noir?", "ask_wine"))
    text = messages[0]["text"].lower()
    assert "does not make" in text or "doesn't make" in text or "not make" in text


def test_fallback_with_nothing_relevant_asks_to_clarify_with_buttons():
    messages, _ = run(ActionAnswerFallback(), tracker("what's the wifi password", "nlu_fallback"))
    assert messages[0]["buttons"] and "not sure" in messages[0]["text"]


def test_fallback_answers_from_any_domain():
    messages, _ = run(ActionAnswerFallback(), tracker("is the staatsburg house a place to stay", "nlu_fallback"))
    assert "Staatsburg House" in messages[0]["text"] and not messages[0].get("buttons")


@pytest.fixture
def no_handoff_channels(settings, monkeypatch):
    from actions import settings as settings_module

    for key in ("STAFF_PHONE", "STAFF_EMAIL", "SMTP_HOST", "TWILIO_ACCOUNT_SID"):
        monkeypatch.delenv(key, raising=False)
    settings_module.get_settings.cache_clear()
    yield
    settings_module.get_settings.cache_clear()


def test_handoff_without_staff_channels_answers_honestly_with_contact(no_handoff_channels):
    messages, _ = run(ActionHandoff(), tracker("can i talk to a person", "human_handoff"))
    assert "(845) 266-0384" in messages[0]["text"] and "hello@" in messages[0]["text"]


def test_feedback_submit_without_a_rating_stores_nothing_and_resets_the_form():
    messages, events = run(ActionSubmitFeedback(), tracker("x", "give_feedback"))
    assert messages == [] and {e["name"] for e in events} >= {"rating", "feedback_comment", "form_blocked"}


def test_a_person_asked_for_beside_an_account_matter_is_a_hand_off_not_a_proof_step(no_handoff_channels):
    from actions.account.orders import ActionReportDamage
    messages, _ = run(ActionReportDamage(), tracker("ugh i need a person, the box came with a cracked bottle",
                                                    "report_damaged_order"))
    said = " ".join(m.get("text") or "" for m in messages)
    assert "(845) 266-0384" in said and "privacy" not in said


def test_the_fallback_reads_who_questions_as_people():
    messages, _ = run(ActionAnswerFallback(), tracker("who looks after visitors there", "nlu_fallback"))
    assert "Mina Do" in messages[0]["text"]
