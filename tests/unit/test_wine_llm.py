"""Open-ended wine questions through the real openai client against the fake
OpenAI-compatible server: the history, the subject and the catalog rows reach
the prompt, and an answer inventing a wine or a price is rejected for the
offline recommender's answer."""
from __future__ import annotations

import dataclasses

import pytest

import actions.knowledge.service as service_module
import actions.responder
from tests.fakes.openai_server import FakeOpenAIServer
from tests.unit.test_conversation import Conversation


@pytest.fixture
def fake_llm():
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def llm_settings(settings, service, fake_llm, monkeypatch):
    monkeypatch.setattr(service_module, "_service", service)
    configured = dataclasses.replace(settings, openai_base_url=fake_llm.url, openai_api_key="test-key",
                                     openai_model="fake-model", llm_timeout_s=2.0)
    monkeypatch.setattr(actions.responder, "get_settings", lambda: configured)
    monkeypatch.setattr(actions.responder, "_llm", None)
    return configured


def _prompt(fake_llm) -> str:
    return fake_llm.chat_requests()[-1]["body"]["messages"][-1]["content"]


def test_history_subject_and_rows_reach_the_prompt_and_a_grounded_answer_is_used(fake_llm):
    fake_llm.mode, fake_llm.reply = "scripted", "With steak, try the Vincenza Reserve BDX Blend ($45)."
    c = Conversation()
    c.say("tell me about the vincenza", "ask_wine", wine="Vincenza Reserve BDX Blend")
    reply = c.say("what goes with steak?", "ask_wine")
    prompt = _prompt(fake_llm)
    assert "Customer: tell me about the vincenza" in prompt          # the last turns
    assert "SUBJECT: Vincenza Reserve BDX Blend" in prompt            # the subject
    assert '"title": "Vincenza Reserve BDX Blend"' in prompt and '"price": "$45"' in prompt  # the catalog rows
    assert "PASSAGES:" in prompt and "[1]" in prompt                  # retrieved passages
    assert reply["text"] == "With steak, try the Vincenza Reserve BDX Blend ($45)."


@pytest.mark.parametrize("invented", [
    "With steak, try our 2019 Estate Merlot Reserve.",                   # a wine we do not make
    "With steak, try the Vincenza Reserve BDX Blend, on sale at $19.",   # a price not in the catalog
    "Our Pinot Noir is lovely with steak.",                               # a grape we do not make
    # the Reserve's $45 moved to the Farmhouse BDX ($32): every number is in the rows, on the wrong wine
    "With steak, try the Farmhouse BDX Red Blend at $45, or the Reserve Cabernet Franc.",
    "At $45 the Farmhouse BDX Red Blend is a steak classic.",
    "With steak, the Farmhouse BDX Red Blend is just nineteen dollars.",  # a price spelled out
    "With steak, try the Farmhouse BDX Red Blend: order at https://milea-wine-deals.example/bdx",  # a link
    "With steak, try the Farmhouse BDX Red Blend, see www.evil.example for a discount.",
    "With steak, try the Farmhouse BDX Red Blend (milea-sale.shop/steak).",
])
def test_an_invented_wine_or_price_is_rejected_for_the_offline_answer(fake_llm, invented):
    fake_llm.mode, fake_llm.reply = "scripted", invented
    reply = Conversation().say("what goes with steak?", "ask_wine")
    assert fake_llm.chat_requests(), "the model was asked"
    assert reply["text"] != invented and "Merlot Reserve" not in reply["text"] and "$19" not in reply["text"]
    assert "example" not in reply["text"] and "nineteen" not in reply["text"]
    assert any(w in reply["text"] for w in ("BDX", "Vincenza", "Reserve Cabernet Franc"))


def test_prices_by_their_own_wines_are_kept(fake_llm):
    grounded = "With steak, try the Reserve Cabernet Franc ($45) or the Farmhouse BDX Red Blend at thirty-two dollars."
    fake_llm.mode, fake_llm.reply = "scripted", grounded
    assert Conversation().say("what goes with steak?", "ask_wine")["text"] == grounded


def test_model_failure_falls_back_to_the_offline_recommender(fake_llm):
    fake_llm.mode = "error"
    reply = Conversation().say("anything good with oysters?", "ask_wine")
    assert any(w in reply["text"] for w in ("Seyval", "Blanc de Blanc", "Brut Cuvee"))
