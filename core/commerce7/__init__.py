"""Commerce7 integration: async REST client, typed errors and small models."""
from .client import Commerce7Client, SlidingWindowLimiter
from .errors import (Commerce7Error, NotFound, RateLimited, ServerError, Unauthorized, Unavailable,
                     ValidationError, error_from_response)
from .models import (Address, Club, ClubMembership, ClubPackage, Customer, Fulfillment, InventoryLocation,
                     LoyaltyBalance, LoyaltyTransaction, Order, OrderItem, Page, Product, SubscribeResult,
                     format_cents, to_e164)

__all__ = [
    "Commerce7Client", "SlidingWindowLimiter",
    "Commerce7Error", "NotFound", "RateLimited", "ServerError", "Unauthorized", "Unavailable",
    "ValidationError", "error_from_response",
    "Address", "Club", "ClubMembership", "ClubPackage", "Customer", "Fulfillment", "InventoryLocation",
    "LoyaltyBalance", "LoyaltyTransaction", "Order", "OrderItem", "Page", "Product", "SubscribeResult",
    "format_cents", "to_e164",
]
