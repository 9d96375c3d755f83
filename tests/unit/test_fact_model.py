"""The fact model and the turn plan (actions/answering/): any attribute of the subject in context,
one thing of a set chosen by a superlative or a value, things named by part of their name, and
off-topic only when nothing is about the winery. Whole conversations through the answering
actions, as tests/unit/test_conversation.py runs them (NLU given per turn)."""
from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answering.attributes import asked
from actions.answering.choose import choose
from actions.answering.facts import load
from actions.knowledge_answers import ActionAnswerOutOfScope
from actions.settings import get_settings
from tests.unit.test_conversation import Conversation, use_test_service  # noqa: F401 - the fixture


@pytest.fixture
def facts():
    return load(get_settings().knowledge_dir)


def test_an_attribute_the_catalog_lacks_comes_from_the_wines_own_prose():
    c = Conversation()
    c.say("tell me about the reserve cab franc", "ask_wine", wine="Reserve Cabernet Franc")
    finish = c.say("and its finish?", "ask_wine")["text"]
    assert "tobacco" in finish and "lavender" in finish and "$45" not in finish
    fruit = c.say("where was the fruit grown?", "ask_wine")["text"]
    assert "Sang's Vineyard" in fruit and "$" not in fruit


def test_a_follow_up_nlu_called_off_topic_is_answered_about_the_subject():
    c = Conversation()
    c.say("what's the brut cuvee like", "ask_wine", wine="HVV Right Bank Brut Cuvee")
    c.events.append({"event": "user", "text": "how long on the lees", "parse_data": {}})
    message = {"text": "how long on the lees", "intent": {"name": "out_of_scope", "confidence": 0.6},
               "intent_ranking": [{"name": "out_of_scope", "confidence": 0.6}], "entities": []}
    tracker = Tracker("conv-user", dict(c.slots), message, list(c.events), False, None, {"name": None}, "rest")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerOutOfScope().run(dispatcher, tracker, {}))
    text = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "18 months" in text


def test_off_topic_stays_off_topic():
    message = {"text": "who will win the super bowl", "intent": {"name": "out_of_scope", "confidence": 0.9},
               "intent_ranking": [{"name": "out_of_scope", "confidence": 0.9},
                                  {"name": "ask_events", "confidence": 0.05}], "entities": []}
    tracker = Tracker("conv-x", {}, message, [{"event": "user", "text": message["text"]}], False, None,
                      {"name": None}, "rest")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerOutOfScope().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["response"] == "utter_out_of_scope"


def test_one_of_a_listed_set_by_a_value_then_by_the_other_one():
    c = Conversation()
    both = c.say("do you make chardonnay?", "ask_wine")["text"]
    assert "Farmhouse Chardonnay" in both and "Reserve Chardonnay" in both
    unoaked = c.say("the one without oak, what does it cost", "ask_wine")["text"]
    assert "Farmhouse Chardonnay" in unoaked and "$30" in unoaked and "$40" not in unoaked
    other = c.say("and the other one, how long in barrel?", "ask_wine")["text"]
    assert "10 months" in other


def test_a_superlative_chooses_then_another_attribute_is_said():
    c = Conversation()
    c.say("which roses do you have", "ask_wine")
    notes = c.say("what's the less expensive one taste like", "ask_wine")["text"]
    assert "strawberry" in notes and "Queen of the Meadow" in notes


def test_tier_attributes_and_a_tier_by_its_values():
    c = Conversation()
    miles = c.say("how many miles per dollar does the grand prix earn", "ask_club", club_tier="Grand Prix")["text"]
    assert "3 points" in miles and "Milea Miles" in miles
    bonus = c.say("and its joining bonus?", "ask_club")["text"]
    assert "200" in bonus and "Grand Prix" in bonus
    six = c.say("whats the discount on the six bottle level", "ask_club")["text"]
    assert "Grand Prix" in six and "15%" in six


def test_a_reward_is_found_by_its_own_words_not_its_neighbours(facts):
    c = Conversation()
    c.say("how do milea miles work", "ask_loyalty")
    penny = c.say("how many do i need for the penny case", "ask_loyalty")["text"]
    assert "10,000" in penny and "5,000" not in penny
    dinner = c.say("and a private dinner?", "ask_loyalty")["text"]
    assert "25,000" in dinner


def test_attribute_words_and_meaning(facts):
    wine = list(facts.attributes["wine"].values())
    assert asked("what's the finish like", wine)[0].attribute.name == "finish"
    assert asked("where do the grapes come from", wine)[0].attribute.name == "origin"
    cheapest = asked("the cheapest one", wine)[0]
    assert (cheapest.attribute.name, cheapest.direction) == ("price", "low")
    assert asked("qwerty zxcv", wine) == []


def test_choose_needs_one_clear_winner(facts):
    tiers = facts.of("tier")
    attributes = list(facts.attributes["tier"].values())
    assert [t.name for t in choose("the 12 bottle one", tiers, attributes)[0]] == ["Triple Crown"]
    assert {t.name for t in choose("which ones give 15% off", tiers, attributes, several=True)[0]} == {"Grand Prix", "Triple Crown"}
    assert choose("the one with 15% off", tiers, attributes) is None   # two tiers give 15%
    assert choose("hmm", tiers, attributes) is None


def test_a_question_of_existence_names_every_match_and_picks_none():
    c = Conversation()
    both = c.say("do you make a chardonnay? my dad can't stand oaky ones", "ask_wine")["text"]
    assert "Farmhouse Chardonnay" in both and "Reserve Chardonnay" in both and "$30" in both and "$40" in both
    unoaked = c.say("which one isn't oaked", "ask_wine")["text"]
    assert unoaked.startswith("The Farmhouse Chardonnay is unoaked")


def test_a_partial_name_within_the_set_just_listed_and_a_new_type_starts_a_new_search():
    c = Conversation()
    c.say("is there a cab franc", "ask_wine")
    finish = c.say("what's the finish like on the reserve", "ask_wine")["text"]
    assert "tobacco" in finish and "Which one" not in finish
    white = c.say("cheapest white?", "ask_wine")["text"]
    assert "$30" in white and "Cabernet" not in white


def test_a_thing_named_by_its_own_name_wins_over_the_subject():
    c = Conversation()
    c.say("tell me about the seated tasting", "ask_tastings")
    board = c.say("can we add a cheese board to it", "ask_tastings")["text"]
    assert "$33" in board
    cancel = c.say("and if we need to cancel the tasting?", "ask_tastings")["text"]
    assert "90 minutes" not in cancel
