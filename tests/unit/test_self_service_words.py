"""Issue 23: how the self-service actions read a request and say account facts (plain functions)."""
from __future__ import annotations

from actions.account import present
from actions.account.change_form import field_in, kind_from, wanted_method
from core.commerce7.models import Address


def test_which_change_a_request_is():
    assert kind_from("change_club_delivery", "switch me to pickup") == "club_delivery"
    assert kind_from("cancel_or_pause_club", "please cancel my wine club") == "club_cancel"
    assert kind_from("cancel_or_pause_club", "can you pause my club for a few months") == "club_hold"
    assert kind_from("cancel_or_pause_club", "skip my next shipment") == "club_hold"
    assert kind_from("change_my_details", "i got a new cell number") == "details_phone"
    assert kind_from("change_my_details", "my email changed") == "details_email"
    assert kind_from("change_my_details", "i moved") == "details_address"
    assert kind_from("change_my_details", "change my details") == "details"
    assert kind_from("ask_hours", "open today?") is None


def test_ship_or_pickup_from_the_words_or_the_other_one():
    assert wanted_method("switch my club shipments to pickup", "Ship") == "Pickup"
    assert wanted_method("please ship my club wine instead of pickup", "Pickup") == "Ship"
    assert wanted_method("change my club from pickup to shipping", "Pickup") == "Ship"
    assert wanted_method("stop shipping my wine ill come get it", "Ship") == "Pickup"
    assert wanted_method("swap it please", "Ship") == "Pickup"
    assert wanted_method("swap it please", "Pickup") == "Ship"


def test_fields_named():
    assert field_in("update my e-mail") == "email"
    assert field_in("new phone number") == "phone"
    assert field_in("need to change my home address") == "address"
    assert field_in("whatever") is None


def test_masked_details_hide_what_identifies():
    assert present.mask_email("jordan.rivera@example.com") == "j***@example.com"
    assert present.mask_phone("+15551234567") == "(***) ***-4567"
    address = Address.from_api({"id": "a", "address": "18 Orchard St", "city": "Rhinebeck", "stateCode": "NY",
                                "zipCode": "12572", "isDefault": True})
    masked = present.mask_address(address)
    assert masked.startswith("18 O***") and "Orchard" not in masked and "12572" not in masked and "Rhinebeck" in masked
    assert present.mask_email(None) == present.mask_phone(None) == present.mask_address(None) == "none on file"


def test_dates_money_and_items():
    assert present.day("2026-11-21T16:00:00.000Z") == "Nov 21, 2026"
    assert present.day("2026-11-21T02:00:00Z") == "Nov 20, 2026"   # New York time
    assert present.day("garbage") == "" and present.money(11112) == "$111.12"
    listed = present.items([("A", 1), ("B", 2), ("C", 3), ("D", 4), ("E", 5)])
    assert listed == "1 x A, 2 x B, 3 x C and 2 more"
