"""The SMS channel's pure text helpers: segments, splitting, numbered buttons, keywords."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from channels.sms_text import (
    MAX_SMS_CHARS, compose_reply, encoding, gsm_friendly, help_text, join_messages, keyword, mask_phone,
    numbered_options, parse_choice, segment_count, sms_units, split_sms,
)

BUTTONS = [
    {"title": "Opening hours", "payload": "/ask_hours"},
    {"title": "Tastings", "payload": "/ask_tastings"},
    {"title": "Our wines", "payload": "/ask_wine"},
    {"title": "Wine club", "payload": "/ask_club"},
]


# ---- encoding and segments

@pytest.mark.parametrize("text, enc, segments", [
    ("", "GSM-7", 0),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),       # extension characters take two septets
    ("€" * 81, "GSM-7", 2),
    ("Café à Noël? Ça va!", "UCS-2", 1),  # é, à and Ç are GSM-7, ë is not
    ("a" * 69 + "é", "GSM-7", 1),  # é is in GSM-7
    ("a" * 70 + "ô", "UCS-2", 2),  # ô is not: the whole message is UCS-2
    ("🍷" * 35, "UCS-2", 1),       # an emoji is two UTF-16 code units
    ("🍷" * 36, "UCS-2", 2),
    ("a" * 158 + "🍷", "UCS-2", 3),  # one emoji turns 159 chars into 160 units of UCS-2
])
def test_encoding_and_segment_count(text, enc, segments):
    assert encoding(text) == enc
    assert segment_count(text) == segments


def test_units_count_what_the_network_counts():
    assert sms_units("abc") == 3
    assert sms_units("a[b]") == 6
    assert sms_units("hi 🍷") == 5


def test_gsm_friendly_keeps_typographic_text_in_gsm7():
    text = "We\u2019re open \u2013 \u201cthe\u201d tasting room\u2026"
    assert encoding(text) == "UCS-2"
    assert gsm_friendly(text) == "We're open - \"the\" tasting room..."
    assert encoding(gsm_friendly(text)) == "GSM-7"
    assert gsm_friendly("Cheers 🍷") == "Cheers 🍷"


# ---- splitting

def test_short_text_is_one_message_even_if_multi_segment():
    text = "Opening hours. " * 100  # 1,499 chars, 10 segments: no need to split
    assert split_sms(text) == [text.strip()]


def test_exactly_1600_is_one_message_and_1601_is_split():
    assert split_sms("a" * 1600) == ["a" * 1600]
    parts = split_sms("a" * 1601)
    assert len(parts) == 2 and "".join(parts) == "a" * 1601
    assert all(len(p) <= MAX_SMS_CHARS for p in parts)


def test_split_parts_fill_whole_segments():
    parts = split_sms("a" * 3000)  # no boundary at all: hard cuts at 10 GSM segments
    assert [len(p) for p in parts] == [1530, 1470]
    parts = split_sms("🍷" * 1000)  # UCS-2: 23 segments of 67 code units per part
    assert all(sms_units(p) <= 23 * 67 for p in parts)
    assert "".join(parts) == "🍷" * 1000  # never cuts an emoji in half


def test_split_on_sentence_boundaries():
    sentence = "The tasting room is open from noon to seven on Fridays. "
    parts = split_sms(sentence * 60)
    assert len(parts) == 3
    assert all(p.endswith("Fridays.") for p in parts)
    assert all(p.startswith("The tasting") for p in parts)
    assert " ".join(parts) == (sentence * 60).strip()


def test_split_prefers_paragraphs_then_words():
    para = ("word " * 200).strip()  # 999 chars, no sentence end
    parts = split_sms(f"{para}\n\n{para}")
    assert parts == [para, para]
    parts = split_sms("word " * 400)
    assert all(p.endswith("word") and p.startswith("word") for p in parts)
    assert all(len(p) <= MAX_SMS_CHARS for p in parts)


def test_emoji_part_uses_the_ucs2_budget_and_gsm_part_the_gsm_budget():
    text = ("Cheers! " * 250) + ("Salud 🍷 " * 200)
    parts = split_sms(text)
    for part in parts:
        assert sms_units(part) <= MAX_SMS_CHARS
        per = 153 if encoding(part) == "GSM-7" else 67
        assert sms_units(part) <= (MAX_SMS_CHARS // per) * per


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n€🍷é")), max_size=5000))
def test_split_keeps_every_word_in_order_within_limits(text):
    parts = split_sms(text)
    assert all(0 < sms_units(p) <= MAX_SMS_CHARS for p in parts)
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())


# ---- buttons

def test_numbered_options():
    assert numbered_options([b["title"] for b in BUTTONS]) == (
        "Reply 1 for Opening hours, 2 for Tastings, 3 for Our wines or 4 for Wine club.")
    assert numbered_options(["Yes"]) == "Reply 1 for Yes."
    assert numbered_options([]) == ""


@pytest.mark.parametrize("reply, index", [
    ("2", 1), ("2.", 1), (" 2 ", 1), ("#2", 1), ("2)", 1), ("4", 3), ("1\n", 0),
    ("0", None), ("5", None), ("22", None), ("2 people", None), ("two", None), ("", None), ("2.5", None),
])
def test_reply_number_maps_back_to_a_button(reply, index):
    assert parse_choice(reply, len(BUTTONS)) == index


def test_no_buttons_means_numbers_are_plain_text():
    assert parse_choice("2", 0) is None


def test_compose_reply_joins_messages_and_numbers_the_last_buttons():
    body, buttons = compose_reply([
        {"recipient_id": "x", "text": "Hi, I'm the assistant."},
        {"recipient_id": "x", "text": "What would you like to know?", "buttons": BUTTONS},
    ])
    assert body == ("Hi, I'm the assistant.\n\nWhat would you like to know?\n\n"
                    "Reply 1 for Opening hours, 2 for Tastings, 3 for Our wines or 4 for Wine club.")
    assert [b["payload"] for b in buttons] == ["/ask_hours", "/ask_tastings", "/ask_wine", "/ask_club"]


def test_compose_reply_without_buttons_and_with_images_and_junk():
    body, buttons = compose_reply([
        {"text": "Here is the map."}, {"image": "https://example.com/map.png"},
        {"custom": {"x": 1}}, {"text": "  "}, {"buttons": [{"title": "", "payload": "/x"}, "junk"]},
    ])
    assert body == "Here is the map.\n\nhttps://example.com/map.png"
    assert buttons == []


def test_join_messages():
    assert join_messages(["a", None, " ", "b "]) == "a\n\nb"


# ---- keywords

@pytest.mark.parametrize("text, opted_out, expected", [
    ("STOP", False, "stop"), ("stop", False, "stop"), (" Stop. ", False, "stop"), ("StopAll", False, "stop"),
    ("unsubscribe", False, "stop"), ("CANCEL", False, "stop"), ("end", False, "stop"), ("Quit", False, "stop"),
    ("REVOKE", False, "stop"), ("optout", False, "stop"), ("Opt out", False, "stop"), ("OPT  OUT!", False, "stop"),
    ("opt-out", False, "stop"),
    ("START", True, "start"), ("start", False, "start"), ("unstop", True, "start"),
    ("yes", True, "start"), ("yes", False, None),  # "yes" is an ordinary answer unless opted out
    ("HELP", False, "help"), ("info", False, "help"), ("help!", True, "help"),
    ("please stop", False, None), ("stop sending me texts", False, None), ("cancel my reservation", False, None),
    ("I need help", False, None), ("", False, None),
])
def test_keywords_are_whole_message_and_case_insensitive(text, opted_out, expected):
    assert keyword(text, opted_out) == expected


def test_help_text_names_the_winery_and_how_to_opt_out():
    text = help_text("Milea Estate Vineyard", "(845) 266-0384")
    assert "Milea Estate Vineyard" in text and "(845) 266-0384" in text and "Reply STOP to opt out" in text


@pytest.mark.parametrize("number, masked", [
    ("+15550001111", "***1111"), ("whatsapp:+15550002222", "***2222"), ("12", "***"), (None, "***"),
])
def test_mask_phone(number, masked):
    assert mask_phone(number) == masked
