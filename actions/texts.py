"""Sending the responses of domain.yml from an action (core/texts.py renders them for everyone)."""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk.executor import CollectingDispatcher

from core.texts import Said, responses


def send(dispatcher: CollectingDispatcher, text: str, buttons: Optional[list] = None) -> None:
    """Send `text`: by its response when it is one (Said), else as the composed text it is."""
    if isinstance(text, Said):
        say(dispatcher, text.response, buttons=buttons or [], **text.values)
    else:
        dispatcher.utter_message(text=text, buttons=buttons or [])


def say(dispatcher: CollectingDispatcher, response: str, /, **values: Any) -> None:
    """Send `response` as a whole message: Rasa chooses the variation for the channel and fills it in.

    Args: response: a response of domain.yml; values: its {placeholders} (slots fill the others).
    """
    if response not in responses():   # fail in the action, loudly, rather than send nothing
        raise KeyError(f"no response {response!r} in domain.yml")
    dispatcher.utter_message(response=response, **values)
