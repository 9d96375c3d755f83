"""How account facts are said: dates, money, lists of wines, masked contact details, addresses."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

from core.commerce7.models import Address, format_cents
from core.phones import to_e164
from core.texts import render

TZ = ZoneInfo("America/New_York")
ITEMS_SHOWN = 3


def day(iso: Optional[str]) -> str:
    """'2026-11-21T16:00:00.000Z' -> 'Nov 21, 2026' (New York time); '' when unreadable."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    local = when.astimezone(TZ) if when.tzinfo else when
    return f"{local.strftime('%b')} {local.day}, {local.year}"


def money(cents: Optional[int]) -> str:
    return format_cents(cents) if cents is not None else ""


def items(pairs: Iterable[tuple[str, int]]) -> str:
    """'2 x Farmhouse Cabernet Franc, 1 x Queen of the Meadow Rose' (and N more)."""
    listed = [(title, qty) for title, qty in pairs if title]
    shown = ", ".join(f"{qty} x {title}" for title, qty in listed[:ITEMS_SHOWN])
    extra = len(listed) - ITEMS_SHOWN
    return shown + (render("utter_order_more_items", count=extra) if extra > 0 else "")


def mask_email(email: Optional[str]) -> str:
    """'jordan.rivera@example.com' -> 'j***@example.com'."""
    if not email or "@" not in email:
        return render("utter_details_none")
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: Optional[str]) -> str:
    """'+15551234567' -> '(***) ***-4567'."""
    number = to_e164(phone) if phone else None
    digits = "".join(c for c in (number or phone or "") if c.isdigit())
    return f"(***) ***-{digits[-4:]}" if len(digits) >= 4 else render("utter_details_none")


def mask_address(address: Optional[Address]) -> str:
    """'18 Orchard St, Rhinebeck, NY 12572' -> '18 O*** St..., Rhinebeck, NY' (the street hidden, the town kept)."""
    if address is None:
        return render("utter_details_none")
    street = (address.address or "").split()
    hidden = " ".join(w if i == 0 else w[:1] + "***" for i, w in enumerate(street[:2]))
    return ", ".join(x for x in (hidden, address.city or "", address.state_code or "") if x)


def address_line(a: Mapping[str, object]) -> str:
    """A full address in the customer's own words (read back to them, never to anyone else)."""
    head = ", ".join(str(a.get(k) or "").strip() for k in ("address", "address2", "city") if a.get(k))
    return f"{head}, {a.get('stateCode') or ''} {a.get('zipCode') or ''}".strip()
