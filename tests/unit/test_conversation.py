"""Whole conversations through the answering actions, turn after turn, with the
events of each turn applied to the next (as the Rasa server does): the subject
is kept, referred back to, corrected and compared. NLU is given (intent and
entities per turn) so these tests pin the action logic; tests/dialogues/ runs the
same kind of conversations through the trained model and the REST channel."""
from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge.service as service_module
from actions.hours import ActionTellHours
from actions.knowledge_answers import ActionAnswerFallback, ActionAnswerKnowledge
from actions.wine import ActionAnswerWine

ACTION_OF = {"ask_wine": ActionAnswerWine, "ask_hours": ActionTellHours, "nlu_fallback": ActionAnswerFallback}
FRIDAY = datetime(2026, 11, 27, 14, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture(autouse=True)
def use_test_service(service, monkeypatch):
    monkeypatch.setattr(service_module, "_service", service)
    monkeypatch.setenv("MILEA_NOW", FRIDAY.isoformat())


class Conversation:
    def __init__(self, channel: str = "rest", metadata: dict | None = None) -> None:
        self.events: list[dict] = []
        self.slots: dict = {}
        self.channel = channel
        self.metadata = metadata or {}

    def say(self, text: str, intent: str, **entities) -> dict:
        message = {"text": text, "intent": {"name": intent, "confidence": 0.95},
                   "entities": [{"entity": k, "value": v} for k, vs in entities.items()
                                for v in (vs if isinstance(vs, list) else [vs])],
                   "metadata": self.metadata}
        self.events.append({"event": "user", "text": text, "parse_data": message,
                            "input_channel": self.channel})
        # the entity mappings of domain.yml (action_extract_slots)
        for name, slot in (("wine", "wine"), ("club_tier", "subject_tier"), ("us_state", "subject_state")):
            if name in entities:
                value = entities[name][-1] if isinstance(entities[name], list) else entities[name]
                self._set(slot, value)
        tracker = Tracker("conv-user", dict(self.slots), message, list(self.events), False, None,
                          {"name": None}, self.channel)
        action = ACTION_OF.get(intent, ActionAnswerKnowledge)()
        dispatcher = CollectingDispatcher()
        new_events = asyncio.run(action.run(dispatcher, tracker, {}))
        for event in new_events:
            if event["event"] == "slot":
                self._set(event["name"], event["value"])
        messages = dispatcher.messages
        return {"text": " ".join(m["text"] for m in messages if m.get("text")),  # wine cards carry no text
                "buttons": [b for m in messages for b in m.get("buttons") or []],
                "cards": [m["custom"] for m in messages if m.get("custom")]}

    def _set(self, name, value):
        self.slots[name] = value
        self.events.append({"event": "slot", "name": name, "value": value})


def test_best_red_then_its_price_then_buying_it():
    c = Conversation()
    first = c.say("what's your best red?", "ask_wine")
    assert "Farmhouse Cabernet Franc" in first["text"] and "92" in first["text"]
    price = c.say("how much is it?", "ask_wine")
    assert "$32" in price["text"] and "Farmhouse Cabernet Franc" in price["text"]
    assert "Wine Opener" not in price["text"] and "Hat" not in price["text"]
    buy = c.say("I'll take it, can I order online?", "ask_wine")
    assert "/product/farmhouse-cabernet-franc" in buy["text"]
    assert buy["buttons"] and "/product/farmhouse-cabernet-franc" in buy["buttons"][0]["url"]


def test_comparing_tiers_then_the_cheaper_one_then_signing_up_for_it():
    c = Conversation()
    diff = c.say("what's the difference between the jumper and grand prix clubs?", "ask_club",
                 club_tier=["Jumper", "Grand Prix"])
    for fact in ("4 bottles", "6 bottles", "$104", "$128", "10%", "15%"):
        assert fact in diff["text"]
    cheaper = c.say("which one is cheaper?", "ask_wine")
    assert "Jumper" in cheaper["text"] and "$104" in cheaper["text"] and "Grand Prix" not in cheaper["text"].split(":")[0]
    assert c.slots["club_tier"] == "Jumper"   # "sign me up for that one" starts the form with it


def test_a_correction_replaces_the_wine_within_its_kind():
    c = Conversation()
    assert "$45" in c.say("how much is the reserve cab franc?", "ask_wine", wine="Reserve Cabernet Franc")["text"]
    fixed = c.say("sorry, I meant the farmhouse one", "ask_wine", wine="farmhouse")
    assert "Farmhouse Cabernet Franc" in fixed["text"] and "$32" in fixed["text"]
    assert "Chardonnay" not in fixed["text"]


def test_what_about_another_day():
    c = Conversation()
    assert "closed" in c.say("are you open on december 24?", "ask_hours", date_phrase="december 24")["text"]
    other = c.say("what about december 27?", "ask_hours", date_phrase="december 27")
    assert "Sunday, December 27" in other["text"] and "12" in other["text"] and "winter" not in other["text"]
    sunday = c.say("and sunday?", "nlu_fallback")
    assert "Sunday" in sunday["text"] and "open" in sunday["text"]


def test_what_about_another_state():
    c = Conversation()
    c.say("do you ship to texas?", "ask_shipping", us_state="texas")
    florida = c.say("what about florida?", "ask_shipping", us_state="florida")
    assert "Yes" in florida["text"] and "Florida" in florida["text"]


def test_pairing_and_bubbly_are_answered_not_declined():
    c = Conversation()
    steak = c.say("which one goes best with steak?", "ask_wine")
    assert any(w in steak["text"] for w in ("BDX", "Vincenza", "Reserve Cabernet Franc"))
    bubbly = c.say("anything bubbly?", "ask_wine")
    assert "Brut Cuvee" in bubbly["text"] and "Blanc de Blanc" in bubbly["text"]
    cheaper = c.say("which one is cheaper?", "ask_wine")
    assert "Brut Cuvee" in cheaper["text"] and "$45" in cheaper["text"]


def test_loyalty_follow_up_is_not_answered_with_merchandise():
    c = Conversation()
    c.say("how does milea miles work?", "ask_loyalty")
    hat = c.say("how many do I need for a free hat?", "ask_loyalty")
    assert "1,000" in hat["text"] and "$25" not in hat["text"]


def test_a_follow_up_without_a_subject_asks_which_with_buttons():
    c = Conversation()
    reply = c.say("how much is it?", "ask_wine")
    assert reply["buttons"] and "$" not in reply["text"]


def test_superlatives_filters_and_counts_come_from_the_catalog():
    c = Conversation()
    assert "Brut Cuvee" in c.say("cheapest sparkling?", "ask_wine")["text"]
    dry_white = c.say("a dry white under $35", "ask_wine")["text"]
    assert "Farmhouse Chardonnay" in dry_white and "Reserve Chardonnay" not in dry_white
    count = c.say("how many reds do you have", "ask_wine")["text"]
    assert "4" in count


def test_buying_mentions_the_members_discount_for_a_verified_member(settings, monkeypatch):
    from actions.identity import sign_token
    from core.customer_proof import exchange
    import time

    import dataclasses
    import actions.responder
    member_settings = dataclasses.replace(settings, customer_token_secret="s3cret")
    monkeypatch.setattr(actions.responder, "get_settings", lambda: member_settings)
    # Jordan Rivera is a Grand Prix member in the emulator's seed.
    from actions.commerce7.connection import get_client
    async def lookup():
        return await get_client().find_customer_by_email("jordan.rivera@example.com")
    customer = asyncio.run(lookup())
    token = sign_token({"sub": customer.id, "exp": time.time() + 600}, "s3cret")
    c = Conversation(metadata=exchange({"customer_token": token}, "conv-user", "rest", "s3cret"))
    c.say("tell me about the reserve chardonnay", "ask_wine", wine="Reserve Chardonnay")
    buy = c.say("can i buy it online?", "ask_wine")
    assert "Grand Prix" in buy["text"] and "15%" in buy["text"]
    anonymous = Conversation()
    anonymous.say("tell me about the reserve chardonnay", "ask_wine", wine="Reserve Chardonnay")
    assert "member" not in anonymous.say("can i buy it online?", "ask_wine")["text"]


def test_the_day_of_month_takes_the_month_asked_before():
    c = Conversation()
    c.say("are you open on december 24?", "ask_hours", date_phrase="december 24")
    assert "December 26" in c.say("and the 26th?", "ask_hours")["text"]


def test_a_wine_and_a_club_tier_are_not_compared():
    c = Conversation()
    reply = c.say("which is better, the grand prix or the reserve chardonnay?", "ask_club",
                  club_tier="Grand Prix", wine="Reserve Chardonnay")
    assert reply["buttons"] and "$" not in reply["text"]


def test_the_reserve_one_after_an_ambiguous_name():
    c = Conversation()
    both = c.say("how much is the cab franc", "ask_wine")["text"]   # two of that name: both prices, no question
    assert "$32" in both and "$45" in both
    picked = c.say("the reserve one", "ask_wine", wine="reserve")
    assert "Reserve Cabernet Franc" in picked["text"] and "$45" in picked["text"]


def test_which_is_cheaper_after_a_partial_name():
    c = Conversation()
    c.say("hw much is the farmhouse chard", "ask_wine", wine="Farmhouse Chardonnay")
    assert "Reserve Chardonnay" in c.say("what about the reserve one?", "ask_wine", wine="reserve")["text"]
    assert "Farmhouse Chardonnay" in c.say("which one is cheaper", "ask_wine")["text"]


def test_a_gift_for_a_grape_lover_is_a_recommendation_not_a_name():
    c = Conversation()
    assert "Chardonnay" in c.say("gift for a chardonnay lover?", "ask_wine")["text"]
    assert "/product/" in c.say("can i order it online", "ask_wine")["text"]


def test_a_wine_recommendation_classified_as_another_intent_is_still_answered():
    c = Conversation()
    reply = c.say("its our anniversary next week, what would you recommend to celebrate?", "ask_events")
    assert "Brut Cuvee" in reply["text"] or "Blanc de Blanc" in reply["text"]
    assert "Brut Cuvee" in c.say("hmm which one is cheaper", "ask_wine")["text"]


def test_a_single_tiers_bottles():
    c = Conversation()
    c.say("what perks come with grand prix", "ask_club", club_tier="Grand Prix")
    assert "6 bottles" in c.say("how many bottles is that", "ask_club")["text"]


def test_it_after_a_list_asks_which_and_similar_but_cheaper_stays_in_type():
    c = Conversation()
    c.say("anything bubbly?", "ask_wine")
    which = c.say("what goes with it?", "ask_wine")
    assert {b["title"] for b in which["buttons"]} == {"HVV Right Bank Brut Cuvee", "HVV Right Bank Blanc de Blanc"}
    c = Conversation()
    c.say("tell me about the reserve chardonnay", "ask_wine", wine="Reserve Chardonnay")
    cheaper = c.say("something similar but cheaper?", "ask_wine")["text"]
    assert "than the Reserve Chardonnay" in cheaper and "$40" in cheaper
    assert any(w in cheaper for w in ("Farmhouse Chardonnay", "Seyval Blanc", "Gruner Veltliner"))


def test_a_grape_we_do_not_make_suggests_a_wine_like_it():
    reply = Conversation().say("do you have pinot grigio", "ask_wine")["text"]
    assert "do not make a Pinot Grigio" in reply and "Queen of the Meadow" in reply


def test_a_house_rule_asked_about_a_space_answers_the_rule_not_the_space():
    c = Conversation()
    dogs = c.say("can i bring my dog to the patio?", "ask_visit_policies")["text"]
    assert "leash" in dogs.lower() and "seats" not in dogs.lower(), dogs
    space = c.say("how many people does the patio room seat", "ask_events")["text"]
    assert "24" in space, space  # the space itself is still answered with its facts
