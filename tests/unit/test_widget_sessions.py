"""Web chat session ids: only the server's own open a conversation; the key comes from the environment."""
from __future__ import annotations

from channels.widget_sessions import WidgetSessions, legacy_id, widget_key


def test_an_issued_id_opens_its_conversation_and_nothing_else_does():
    sessions = WidgetSessions(b"k" * 32)
    conversation = sessions.new_conversation()
    issued = sessions.bearer(conversation)
    assert sessions.opens(issued) == conversation
    name, mac = issued.split(".")
    for forged in (name, f"{name}.{'0' * len(mac)}", f"{name}.{mac[:-1]}", f"{name}.{mac}.x", "",
                   None, f"+18455550199.{mac}", WidgetSessions(b"other" * 8).bearer(conversation)):
        assert sessions.opens(forged) is None, forged
    assert sessions.new_conversation() != conversation


def test_ids_the_widget_chose_before_are_recognised_and_can_be_signed():
    sessions = WidgetSessions(b"k" * 32)
    old = "0123456789abcdef" * 2
    assert legacy_id(old) and not legacy_id("w" + old) and not legacy_id("web-visitor")
    assert sessions.opens(sessions.bearer(old)) == old


def test_the_key_is_its_own_secret_or_derived_from_the_rasa_token():
    assert widget_key({"WIDGET_SESSION_SECRET": "s" * 32}) == b"s" * 32
    derived = widget_key({"RASA_AUTH_TOKEN": "t" * 32})
    assert derived == widget_key({"RASA_AUTH_TOKEN": "t" * 32}) and derived != b"t" * 32
    assert widget_key({}) != widget_key({})  # neither: one per process, never a fixed key
