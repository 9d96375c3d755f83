"""Unit tests run actions without a Rasa server, so nothing turns a response sent by name
(`utter_message(response=...)`) into its words. This fills in "text" and "buttons" of such
messages from domain.yml the way Rasa's NLG does (the general variation, the values given,
the response's buttons before the action's), so tests read what the customer would see.
Rasa's own NLG, channel versions included, is checked through the running stack
(tests/integration/test_forms_rest.py, tests/integration/test_twilio_channel.py)."""
from __future__ import annotations

import json

import pytest
from rasa_sdk.executor import CollectingDispatcher

from core import texts

_RASA_KEYS = {"text", "image", "json_message", "template", "response", "attachment", "buttons", "elements"}


@pytest.fixture(autouse=True)
def responses_rendered(monkeypatch):
    original = CollectingDispatcher.utter_message

    def utter_message(self, *args, **kwargs):
        original(self, *args, **kwargs)
        message = self.messages[-1]
        json.dumps(message)   # rasa-sdk sends it to Rasa as JSON
        name = message.get("response")
        if name and not message.get("text"):
            variation = texts.variation(name)
            values = {k: v for k, v in kwargs.items() if k not in _RASA_KEYS}
            message["text"] = texts.fill(variation["text"], values)
            message["buttons"] = list(variation.get("buttons") or []) + list(message.get("buttons") or [])

    monkeypatch.setattr(CollectingDispatcher, "utter_message", utter_message)
