"""Wine cards: what the website shows for a wine from the live catalog, as a Rasa custom
payload (`dispatcher.utter_message(json_message=wine_cards(products))`).

The payload, the same on every channel:

    {"type": "wine_cards", "layout": "card" | "carousel",
     "cards": [{"title", "vintage", "varietal", "price", "in_stock", "image", "url"}, ...],
     "text": "2022 Reserve Cabernet Franc: $45, in stock. Buy: https://..."}

The widget draws `cards` (one card, or a carousel for several); text-only channels (SMS,
REST clients that ignore custom payloads) send `text`, the same content in short. Prices
and stock are Commerce7's at the moment of the answer; `in_stock` is null when the
product does not track inventory. Image URLs relative to the Commerce7 API (the demo
emulator serves its own) are made absolute.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Protocol
from urllib.parse import quote, urljoin, urlsplit

from actions.commerce7.catalog import in_stock
from core.commerce7.models import Product
from core.commerce7.sync import price_text
from actions.settings import Settings, get_settings

PAYLOAD_TYPE = "wine_cards"
MAX_CARDS = 6  # a carousel longer than this is a catalogue, not an answer


def store_page(store_products: str, slug: Optional[str]) -> str:
    """A product's page in the online store (STORE_PRODUCT_URL + its Commerce7 slug); the store's
    front page for a product without a slug."""
    if not slug:
        parts = urlsplit(store_products)
        return f"{parts.scheme}://{parts.netloc}/"
    return urljoin(store_products.rstrip("/") + "/", quote(slug, safe=""))


def product_url(product: Product, settings: Settings) -> Optional[str]:
    """The product's page in the online store, from its Commerce7 slug."""
    return store_page(settings.store_product_url, product.slug) if product.slug else None


def image_url(product: Product, settings: Settings) -> Optional[str]:
    image = product.raw.get("image")
    if not isinstance(image, str) or not image.strip():
        return None
    url = urljoin(settings.c7_api_url, image.strip())
    return url if url.startswith(("https://", "http://")) else None


def wine_card(product: Product, settings: Optional[Settings] = None) -> dict[str, Any]:
    """One card from one catalog row."""
    settings = settings or get_settings()
    return {"title": product.title, "vintage": product.vintage, "varietal": product.varietal,
            "price": price_text(product) or None, "in_stock": in_stock(product),
            "image": image_url(product, settings), "url": product_url(product, settings)}


def card_text(card: dict[str, Any]) -> str:
    """'2022 Reserve Cabernet Franc: $45, in stock. Buy: https://...' (SMS and other text channels)."""
    name = f"{card['vintage']} {card['title']}" if card.get("vintage") else str(card["title"])
    facts = [card["price"]] if card.get("price") else []
    if card.get("in_stock") is True:
        facts.append("in stock")
    elif card.get("in_stock") is False:
        facts.append("sold out")
    line = f"{name}: {', '.join(facts)}." if facts else f"{name}."
    if not card.get("url"):
        return line
    return f"{line} {'Details' if card.get('in_stock') is False else 'Buy'}: {card['url']}"


def wine_cards(products: Iterable[Product], settings: Optional[Settings] = None) -> Optional[dict[str, Any]]:
    """The custom payload for these catalog rows (wines only), or None when there is none.

    Args:
        products: Commerce7 catalog rows, in the order to show them.
        settings: for the store and Commerce7 URLs; default: the environment's.
    Returns:
        {"type": "wine_cards", "layout", "cards", "text"} or None.
    """
    settings = settings or get_settings()
    cards = [wine_card(p, settings) for p in products if p.type == "Wine"][:MAX_CARDS]
    if not cards:
        return None
    return {"type": PAYLOAD_TYPE, "layout": "card" if len(cards) == 1 else "carousel", "cards": cards,
            "text": "\n".join(card_text(c) for c in cards)}


class _Dispatcher(Protocol):
    def utter_message(self, **kwargs: Any) -> None: ...


def show_wine_cards(dispatcher: _Dispatcher, products: Iterable[Optional[Product]]) -> None:
    """Send the cards of these catalog rows (None rows are skipped), if any is a wine."""
    payload = wine_cards([p for p in products if p is not None])
    if payload:
        dispatcher.utter_message(json_message=payload)
