"""Form validators: email, phone, age, state, zip, names, card numbers."""
from __future__ import annotations

from datetime import date

import pytest

from actions import validators as v
from core.cards import looks_like_card_number


@pytest.mark.parametrize("text, expected", [
    ("jane@example.com", "jane@example.com"),
    ("my email is Jane.Doe+wine@Example.COM.", "jane.doe+wine@example.com"),
    ("jane@example", None), ("jane.example.com", None), ("@example.com", None), ("", None), (None, None),
])
def test_email(text, expected):
    assert v.email(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("(845) 266-0384", "+18452660384"), ("845.266.0384", "+18452660384"), ("1-845-266-0384", "+18452660384"),
    ("+44 20 7946 0958", "+442079460958"), ("266-0384", None), ("call me", None),
    ("+248 555 0199", "+2485550199"), ("8452660384 thanks", "+18452660384"),
    ("4111 1111 1111 1111", None),  # a card number is never taken for a phone
])
def test_phone(text, expected):
    assert v.phone(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("1990-05-12", date(1990, 5, 12)), ("05/12/1990", date(1990, 5, 12)), ("May 12th, 1990", date(1990, 5, 12)),
    ("12 May 1990", date(1990, 5, 12)), ("yesterday", None), ("2090-01-01", None), ("13/45/1990", None),
])
def test_birth_date(text, expected):
    assert v.birth_date(text, today=date(2026, 11, 24)) == expected


def test_age_boundary_is_the_21st_birthday():
    today = date(2026, 11, 24)
    assert v.is_of_age(date(2005, 11, 24), today)
    assert not v.is_of_age(date(2005, 11, 25), today)


@pytest.mark.parametrize("text, code, allowed", [
    ("New York", "NY", True), ("fl", "FL", True), ("Washington DC", "DC", True), ("alaska", "AK", True),
    ("Minnesota", "MN", True), ("California", "CA", False), ("texas", "TX", False),
])
def test_states_and_the_allowed_shipping_states(text, code, allowed):
    assert v.us_state(text) == code and v.allowed_ship_state(code) is allowed


def test_unknown_state():
    assert v.us_state("narnia") is None


@pytest.mark.parametrize("text, expected", [("12580", "12580"), ("12580-1234", "12580-1234"), ("1258", None), ("abcde", None)])
def test_zip(text, expected):
    assert v.zip_code(text) == expected


def test_tiers_delivery_and_names():
    assert v.club_tier("the grand prix one") == "Grand Prix"
    assert v.club_tier("triple crown") == "Triple Crown" and v.club_tier("jumper") == "Jumper"
    assert v.club_tier("the platinum tier") is None
    # by what a tier has, from the fact model: one clear winner or none
    assert v.club_tier("the one with 12 bottles") == "Triple Crown" and v.club_tier("the cheapest") == "Jumper"
    assert v.club_tier("the one with lodging and food off") == "Triple Crown"
    assert v.club_tier("the one with 15% off") is None   # two tiers give 15%
    assert v.delivery_method("ship it to me") == "Ship" and v.delivery_method("I'll pick it up") == "Pickup"
    assert v.person_name("my name is jane") == "Jane" and v.person_name("o'neil") == "O'neil"
    assert v.person_name("<script>") is None and v.person_name("x" * 80) is None


def test_card_numbers_are_recognised():
    assert looks_like_card_number("my card is 4242 4242 4242 4242")
    assert not looks_like_card_number("call 845 266 0384")
