"""Small typed views of Commerce7 objects.

Each keeps the API dict in `raw` so callers can reach fields not modelled here; parsing is
tolerant (missing keys give None/empty) because tenants and API versions differ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from core.phones import same as same_phone, to_e164 as to_e164  # to_e164 is part of this package's API

JsonDict = dict[str, Any]


def format_cents(cents: int | None) -> str:
    """4500 -> "$45.00", 123456 -> "$1,234.56" (Commerce7 money is integer cents)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> JsonDict:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Variant:
    id: str
    title: Optional[str]
    sku: Optional[str]
    price_cents: Optional[int]
    volume_ml: Optional[int]
    available: Optional[int]   # sum of availableForSaleCount; None when inventory is not tracked

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Variant":
        inventory = d.get("inventory")
        available = (sum(int(i.get("availableForSaleCount") or 0) for i in _list(inventory))
                     if isinstance(inventory, list) else None)
        price = d.get("price")
        return cls(id=str(d.get("id")), title=d.get("title"), sku=d.get("sku"),
                   price_cents=int(price) if price is not None else None,
                   volume_ml=d.get("volumeInML"), available=available)


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    slug: Optional[str]
    type: Optional[str]
    web_status: Optional[str]
    admin_status: Optional[str]
    teaser: Optional[str]
    varietal: Optional[str]
    vintage: Optional[int]          # None for non-vintage wines
    wine_type: Optional[str]
    variants: list[Variant]
    updated_at: Optional[str]
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Product":
        wine = _dict(d.get("wine"))
        return cls(id=str(d.get("id")), title=str(d.get("title") or ""), slug=d.get("slug"),
                   type=d.get("type"), web_status=d.get("webStatus"), admin_status=d.get("adminStatus"),
                   teaser=d.get("teaser"), varietal=wine.get("varietal"), vintage=wine.get("vintage"),
                   wine_type=wine.get("type"),
                   variants=[Variant.from_api(v) for v in _list(d.get("variants")) if isinstance(v, dict)],
                   updated_at=d.get("updatedAt"), raw=dict(d))

    @property
    def price_cents(self) -> Optional[int]:
        return self.variants[0].price_cents if self.variants else None

    @property
    def price(self) -> str:
        return format_cents(self.price_cents)


@dataclass(frozen=True)
class LoyaltyBalance:
    points: int
    tier: Optional[str]
    tier_id: Optional[str]


@dataclass(frozen=True)
class ClubRef:
    club_id: str
    club_title: Optional[str]
    signup_date: Optional[str]
    cancel_date: Optional[str]
    membership_id: Optional[str]


@dataclass(frozen=True)
class Customer:
    id: str
    first_name: Optional[str]
    last_name: Optional[str]
    emails: list[str]
    phones: list[str]
    email_marketing_status: Optional[str]
    birth_date: Optional[str]
    clubs: list[ClubRef]
    loyalty: Optional[LoyaltyBalance]   # None when the tenant has no Loyalty extension
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Customer":
        loyalty = d.get("loyalty")
        balance = (LoyaltyBalance(points=int(loyalty.get("points") or 0), tier=loyalty.get("tier"),
                                  tier_id=loyalty.get("loyaltyTierId"))
                   if isinstance(loyalty, dict) else None)
        clubs = [ClubRef(club_id=str(c.get("clubId")), club_title=c.get("clubTitle"),
                         signup_date=c.get("signupDate"), cancel_date=c.get("cancelDate"),
                         membership_id=c.get("clubMembershipId"))
                 for c in _list(d.get("clubs")) if isinstance(c, dict)]
        return cls(id=str(d.get("id")), first_name=d.get("firstName"), last_name=d.get("lastName"),
                   emails=[str(e["email"]) for e in _list(d.get("emails")) if isinstance(e, dict) and e.get("email")],
                   phones=[str(p["phone"]) for p in _list(d.get("phones")) if isinstance(p, dict) and p.get("phone")],
                   email_marketing_status=d.get("emailMarketingStatus"), birth_date=d.get("birthDate"),
                   clubs=clubs, loyalty=balance, raw=dict(d))

    @property
    def email(self) -> Optional[str]:
        return self.emails[0] if self.emails else None

    def has_email(self, email: str) -> bool:
        wanted = email.strip().casefold()
        return any(e.strip().casefold() == wanted for e in self.emails)

    def has_phone(self, phone: str) -> bool:
        return any(same_phone(phone, p) for p in self.phones)


@dataclass(frozen=True)
class Address:
    id: str
    customer_id: Optional[str]
    address: Optional[str]
    city: Optional[str]
    state_code: Optional[str]
    zip_code: Optional[str]
    country_code: Optional[str]
    is_default: bool
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Address":
        return cls(id=str(d.get("id")), customer_id=d.get("customerId"), address=d.get("address"),
                   city=d.get("city"), state_code=d.get("stateCode"), zip_code=d.get("zipCode"),
                   country_code=d.get("countryCode"), is_default=bool(d.get("isDefault")), raw=dict(d))


@dataclass(frozen=True)
class Club:
    id: str
    title: str
    slug: Optional[str]
    type: Optional[str]
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Club":
        return cls(id=str(d.get("id")), title=str(d.get("title") or ""), slug=d.get("slug"),
                   type=d.get("type"), raw=dict(d))


@dataclass(frozen=True)
class ClubMembership:
    id: str
    status: Optional[str]
    customer_id: Optional[str]
    club_id: Optional[str]
    order_delivery_method: Optional[str]
    signup_date: Optional[str]
    cancel_date: Optional[str]
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "ClubMembership":
        return cls(id=str(d.get("id")), status=d.get("status"),
                   customer_id=d.get("customerId") or _dict(d.get("customer")).get("id"),
                   club_id=d.get("clubId") or _dict(d.get("club")).get("id"),
                   order_delivery_method=d.get("orderDeliveryMethod"), signup_date=d.get("signupDate"),
                   cancel_date=d.get("cancelDate"), raw=dict(d))

    @property
    def club_title(self) -> Optional[str]:
        return _dict(self.raw.get("club")).get("title")

    @property
    def ship_to_address_id(self) -> Optional[str]:
        return self.raw.get("shipToCustomerAddressId")

    @property
    def pickup_location_id(self) -> Optional[str]:
        return self.raw.get("pickupInventoryLocationId")

    @property
    def next_process_date(self) -> Optional[str]:
        """A subscription club's own next processing date (Commerce7 admin: "Next Process Date"; the API
        field name is unverified). Traditional clubs process by package (ClubPackage.process_date)."""
        value = self.raw.get("nextProcessDate") or self.raw.get("nextProcessingDate")
        return value if isinstance(value, str) else None

    @property
    def is_active(self) -> bool:
        return self.status == "Active"


@dataclass(frozen=True)
class LoyaltyTransaction:
    id: str
    customer_id: Optional[str]
    points: int
    notes: Optional[str]
    created_at: Optional[str]
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "LoyaltyTransaction":
        points = d.get("points", d.get("amount"))   # field name not confirmed on a live tenant
        return cls(id=str(d.get("id")), customer_id=d.get("customerId"), points=int(points or 0),
                   notes=d.get("notes"), created_at=d.get("createdAt"), raw=dict(d))


@dataclass(frozen=True)
class ClubPackage:
    """A traditional club's shipment: what it holds and when it is processed (charged and shipped)."""
    id: str
    club_id: Optional[str]
    title: Optional[str]
    status: Optional[str]
    process_date: Optional[str]
    items: list[tuple[str, int]]   # (product title, quantity)
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "ClubPackage":
        items = [(str(i.get("productTitle") or i.get("title") or ""), int(i.get("quantity") or 0))
                 for i in _list(d.get("items")) if isinstance(i, dict)]
        date = d.get("processDate") or d.get("autoProcessDate")
        return cls(id=str(d.get("id")), club_id=d.get("clubId") or _dict(d.get("club")).get("id"),
                   title=d.get("title"), status=d.get("status"), process_date=date if isinstance(date, str) else None,
                   items=[(t, q) for t, q in items if t], raw=dict(d))


@dataclass(frozen=True)
class OrderItem:
    title: str
    quantity: int
    price_cents: Optional[int]


@dataclass(frozen=True)
class Fulfillment:
    type: Optional[str]          # Shipped | Picked Up | ...
    date: Optional[str]
    carrier: Optional[str]
    tracking_numbers: list[str]


@dataclass(frozen=True)
class Order:
    """A Commerce7 order (docs/commerce7.md: which field names are verified). Money in cents."""
    id: str
    number: Optional[str]
    submitted: Optional[str]
    customer_id: Optional[str]
    delivery_method: Optional[str]     # Ship | Pickup | Carry Out
    payment_status: Optional[str]
    fulfillment_status: Optional[str]  # Not Fulfilled | Partially Fulfilled | Fulfilled | No Fulfillment Required
    items: list[OrderItem]
    total_cents: Optional[int]
    fulfillments: list[Fulfillment]
    pickup_location_id: Optional[str]
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "Order":
        items = [OrderItem(title=str(i.get("productTitle") or i.get("title") or ""), quantity=int(i.get("quantity") or 0),
                           price_cents=int(i["price"]) if isinstance(i.get("price"), (int, float)) else None)
                 for i in _list(d.get("items")) if isinstance(i, dict)]
        fulfillments = []
        for f in _list(d.get("fulfillments")):
            if not isinstance(f, dict):
                continue
            shipped = _dict(f.get("shipped"))
            numbers = [str(n) for n in _list(shipped.get("trackingNumbers")) if n]
            if shipped.get("trackingNumber"):
                numbers.append(str(shipped["trackingNumber"]))
            fulfillments.append(Fulfillment(type=f.get("type"), date=f.get("fulfillmentDate"),
                                            carrier=shipped.get("carrier") or f.get("carrier"),
                                            tracking_numbers=numbers))
        total = d.get("total")
        number = d.get("orderNumber")
        return cls(id=str(d.get("id")), number=str(number) if number is not None else None,
                   submitted=d.get("orderSubmittedDate") or d.get("createdAt"),
                   customer_id=d.get("customerId") or _dict(d.get("customer")).get("id"),
                   delivery_method=d.get("orderDeliveryMethod"), payment_status=d.get("paymentStatus"),
                   fulfillment_status=d.get("fulfillmentStatus"), items=[i for i in items if i.title],
                   total_cents=int(total) if isinstance(total, (int, float)) else None, fulfillments=fulfillments,
                   pickup_location_id=d.get("pickupInventoryLocationId"), raw=dict(d))

    @property
    def state(self) -> str:
        """What the customer cares about: shipped | partly_shipped | picked_up | ready_for_pickup | preparing | done."""
        status = (self.fulfillment_status or "").casefold()
        pickup = (self.delivery_method or "").casefold() in ("pickup", "carry out")
        if status == "fulfilled":
            return "picked_up" if pickup else "shipped"
        if status == "partially fulfilled":
            return "partly_shipped"
        if status == "no fulfillment required":
            return "done"
        if pickup and self.marked_ready is not None:   # the tenant marks pickup orders ready (docs/commerce7.md)
            return "ready_for_pickup" if self.marked_ready else "preparing"
        if pickup and (self.payment_status or "Paid").casefold() == "paid":
            return "ready_for_pickup"
        return "preparing"

    @property
    def marked_ready(self) -> Optional[bool]:
        """`pickupStatus` "Ready For Pickup" or a fulfillment of that type; None when the order has neither field
        (a tenant that does not mark pickups ready: a paid pickup order is then ready)."""
        if any((f.type or "").casefold() == "ready for pickup" for f in self.fulfillments):
            return True
        if "pickupStatus" not in self.raw:
            return None
        return str(self.raw.get("pickupStatus") or "").casefold() == "ready for pickup"

    @property
    def shipment(self) -> Optional[Fulfillment]:
        return next((f for f in reversed(self.fulfillments) if f.tracking_numbers or f.carrier), None)

    @property
    def done_on(self) -> Optional[str]:
        """When it was shipped or picked up (the last fulfillment that is not a 'ready' mark)."""
        done = [f for f in self.fulfillments if (f.type or "").casefold() != "ready for pickup"]
        return done[-1].date if done else None


@dataclass(frozen=True)
class InventoryLocation:
    id: str
    title: Optional[str]
    raw: JsonDict = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, d: Mapping[str, Any]) -> "InventoryLocation":
        return cls(id=str(d.get("id")), title=d.get("title"), raw=dict(d))


@dataclass(frozen=True)
class Page:
    items: list[JsonDict]
    total: Optional[int]


@dataclass(frozen=True)
class SubscribeResult:
    customer_id: str
    already_subscribed: bool
    created: bool
