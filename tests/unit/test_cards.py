"""Wine cards (actions/cards.py) from the Commerce7 emulator's catalog, as the wine answers
send them, and their short SMS form."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest
import requests

from actions import cards
from actions.commerce7 import catalog
from actions.commerce7.catalog import available_products
from channels.sms_text import compose_reply
from tests.unit.test_actions import run, tracker
from actions.wine import ActionAnswerWine


@pytest.fixture
def products(settings):
    catalog.clear()
    return asyncio.run(available_products())


def by_title(products, title):
    return next(p for p in products if p.title == title)


def test_a_card_has_image_name_vintage_price_stock_and_product_page(settings, products, emulator):
    shop = dataclasses.replace(settings, store_product_url="https://shop.example/wines/")
    card = cards.wine_card(by_title(products, "Reserve Cabernet Franc"), shop)
    assert card["title"] == "Reserve Cabernet Franc" and card["vintage"] == 2022
    assert card["price"] == "$45" and card["in_stock"] is True
    assert card["url"] == "https://shop.example/wines/reserve-cabernet-franc-2022"
    image = requests.get(card["image"], timeout=5)  # the emulator's own picture, no credentials
    assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/svg+xml")
    assert card["image"].startswith(emulator.base_url) and "<svg" in image.text


def test_one_wine_is_a_card_several_a_carousel_and_only_wines(settings, products):
    one = cards.wine_cards([by_title(products, "Farmhouse Chardonnay")], settings)
    assert one["type"] == "wine_cards" and one["layout"] == "card" and len(one["cards"]) == 1
    several = cards.wine_cards(products, settings)
    assert several["layout"] == "carousel" and len(several["cards"]) == cards.MAX_CARDS
    assert cards.wine_cards([p for p in products if p.type != "Wine"], settings) is None


def test_sold_out_and_untracked_stock_and_no_image(settings, products):
    wine = by_title(products, "Reserve Chardonnay")
    sold_out = dataclasses.replace(wine, variants=[dataclasses.replace(wine.variants[0], available=0)],
                                   raw={**wine.raw, "image": None})
    card = cards.wine_card(sold_out, settings)
    assert card["in_stock"] is False and card["image"] is None
    assert cards.card_text(card) == f"2023 Reserve Chardonnay: $40, sold out. Details: {card['url']}"
    untracked = dataclasses.replace(wine, variants=[dataclasses.replace(wine.variants[0], available=None)])
    assert cards.wine_card(untracked, settings)["in_stock"] is None


def test_sms_gets_the_cards_as_short_text_with_the_link(settings, products):
    payload = cards.wine_cards([by_title(products, "Farmhouse Cabernet Franc")], settings)
    body, _ = compose_reply([{"text": "The 2022 Farmhouse Cabernet Franc is $32 a bottle."}, {"custom": payload}])
    url = payload["cards"][0]["url"]
    assert body.endswith(f"2022 Farmhouse Cabernet Franc: $32, in stock. Buy: {url}")
    assert url.startswith("https://") and "farmhouse-cabernet-franc" in url


def test_wine_answers_send_a_card_and_ambiguous_names_a_carousel(settings):
    catalog.clear()
    messages, _ = run(ActionAnswerWine(), tracker("how much is the reserve cab franc", "ask_wine"))
    assert messages[0]["text"].startswith("The 2022 Reserve Cabernet Franc is $45")
    card = messages[-1]["custom"]
    assert card["layout"] == "card" and card["cards"][0]["title"] == "Reserve Cabernet Franc"
    messages, _ = run(ActionAnswerWine(), tracker("what does the chardonnay taste like", "ask_wine"))
    assert messages[0]["buttons"]
    carousel = messages[-1]["custom"]
    assert carousel["layout"] == "carousel"
    assert {c["title"] for c in carousel["cards"]} == {"Farmhouse Chardonnay", "Reserve Chardonnay"}
