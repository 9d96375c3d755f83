"""Wine cards by SMS: the same wine, price and stock as the website's card, in short, with
the link to the product page (actions/cards.py, channels/sms_text.py), end to end through
the signed Twilio webhook and the fake Twilio REST API."""
from __future__ import annotations

from tests.integration.test_twilio_channel import phone, replies, text  # noqa: F401 - phone is a fixture

PRODUCT_PAGES = "https://mileaestatevineyard.com/product/"  # STORE_PRODUCT_URL's default


def test_a_price_question_by_sms_gets_the_card_as_text_with_the_link(sms_stack, api, phone):
    text(sms_stack, phone, "how much is the reserve cab franc?")
    [reply] = replies(api, phone)
    assert "$45" in reply
    assert f"2022 Reserve Cabernet Franc: $45, in stock. Buy: {PRODUCT_PAGES}reserve-cabernet-franc-2022" in reply
    assert "<" not in reply and "{" not in reply  # no markup or raw payload in an SMS
