"""Knowledge answers to visitors' own words (kinds from blind round 14, phrased here anew): a question
asking an amount gets the sentence that states it, and everyday words reach the passage that uses
the knowledge base's words (signing up -> signup bonus, a place to sleep -> the Staatsburg House,
built -> dates to, a critic's score -> the accolade)."""
from __future__ import annotations

import asyncio

import pytest


def ask(service, question: str, intent=None) -> str:
    return asyncio.run(service.answer(question, intent)).text


def test_a_question_of_how_many_gets_the_sentence_with_the_number(service):
    said = ask(service, "im on triple crown - do purchases earn me milea miles and how many", "ask_loyalty")
    assert "5 points per dollar" in said


@pytest.mark.parametrize("question, intent, fact", [
    ("anything extra for signing up as a member", "ask_loyalty", "100 points"),
    ("can we sleep over somewhere on the property", None, "Staatsburg House"),
    ("what year was that old house on your land built", "ask_about", "1747"),
    ("did a critic ever give one of your wines a good score", None, "92 points"),
])
def test_everyday_words_reach_the_passage_that_answers(service, question, intent, fact):
    assert fact in ask(service, question, intent)


def test_a_question_about_those_who_are_not_members_gets_the_sentence_about_them(service):
    assert "20 points" in ask(service, "do non club people get to earn points too", "ask_loyalty")
