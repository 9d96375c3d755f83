"""Live product data for answers (prices, vintages, stock), cached briefly.

Prices and availability are always read from Commerce7, never from prose; a
short TTL keeps a busy tasting-room afternoon from hammering the API. When
Commerce7 is unreachable the last good copy is used, and with none the caller
says it cannot check.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Optional

from actions.commerce7.connection import get_client
from core.commerce7.errors import Commerce7Error
from core.commerce7.models import Product
from actions.settings import get_settings

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 6.0
_cache: dict[str, tuple[float, list[Product]]] = {}


async def available_products(now: Optional[float] = None) -> Optional[list[Product]]:
    """Every Available product, or None when Commerce7 cannot be reached and nothing is cached."""
    now = time.monotonic() if now is None else now
    cached = _cache.get("products")
    if cached and now - cached[0] < get_settings().catalog_ttl_s:
        return cached[1]
    try:
        products = await asyncio.wait_for(get_client().list_products(web_status="Available"), FETCH_TIMEOUT_S)
    except (Commerce7Error, asyncio.TimeoutError) as exc:
        log.warning("live catalog unavailable (%s)%s", type(exc).__name__, ": using the last copy" if cached else "")
        return cached[1] if cached else None
    _cache["products"] = (now, products)
    return products


def clear() -> None:
    _cache.clear()


def find_product(products: list[Product], title: str) -> Optional[Product]:
    wanted = title.strip().casefold()
    return next((p for p in products if p.title.strip().casefold() == wanted), None)


def in_stock(product: Product) -> Optional[bool]:
    """True/False from inventory, None when the variant does not track inventory."""
    counts = [v.available for v in product.variants if v.available is not None]
    if not counts:
        return None
    return sum(counts) > 0
