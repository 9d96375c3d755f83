"""A campaign's recipients: the opted-in numbers of the consent ledger, narrowed by what Commerce7 knows.

- "all": every opted-in number (Commerce7 is not asked);
- {"club_members": true}: customers with an active club membership;
- {"tier": "<club title>"}: members of that club (the winery's tiers are its clubs);
- {"tag": "<tag>"}: customers carrying that tag.
A customer in the segment whose number is not opted in is counted (skipped, not_opted_in) and sent nothing.
"""
from __future__ import annotations

from typing import Any, Optional

from core.commerce7.client import Commerce7Client
from core.consent import ConsentLedger
from core.phones import sms_allowed, to_e164


def _tags(customer: dict[str, Any]) -> set[str]:
    found = set()
    for tag in customer.get("tags") or []:
        title = tag.get("title") if isinstance(tag, dict) else tag
        if isinstance(title, str):
            found.add(title.strip().casefold())
    return found


def _active_clubs(customer: dict[str, Any]) -> set[str]:
    return {str(c.get("clubTitle") or "").casefold() for c in customer.get("clubs") or []
            if isinstance(c, dict) and not c.get("cancelDate")}


def matches(customer: dict[str, Any], audience: Any) -> bool:
    if not isinstance(audience, dict):
        return True
    if audience.get("club_members"):
        return bool(_active_clubs(customer))
    if audience.get("tier"):
        return str(audience["tier"]).casefold() in _active_clubs(customer)
    if audience.get("tag"):
        return str(audience["tag"]).casefold() in _tags(customer)
    return False


async def resolve(audience: Any, ledger: ConsentLedger,
                  client: Optional[Commerce7Client]) -> list[tuple[str, Optional[str]]]:
    """(phone, None) for each number to text, (phone, reason) for each one counted and skipped."""
    opted = set(ledger.opted_in_numbers())
    if audience == "all":
        return [(p, None if sms_allowed(p) else "refused_country") for p in sorted(opted)]
    if client is None:
        raise RuntimeError("this audience needs Commerce7")
    chosen: dict[str, Optional[str]] = {}
    async for page in client.iter_pages("customer", "customers"):
        for customer in page:
            if not matches(customer, audience):
                continue
            found = [to_e164(p.get("phone")) for p in customer.get("phones") or [] if isinstance(p, dict)]
            for number in (n for n in found if n):
                if number in opted:
                    chosen[number] = None if sms_allowed(number) else "refused_country"
                else:
                    chosen.setdefault(number, "not_opted_in")
    return sorted(chosen.items())


async def estimate(audience: Any, ledger: ConsentLedger, client: Optional[Commerce7Client]) -> dict[str, int]:
    """How many would get it and how many would be skipped (the console's preview)."""
    resolved = await resolve(audience, ledger, client)
    return {"recipients": sum(1 for _, r in resolved if r is None),
            "skipped": sum(1 for _, r in resolved if r is not None)}
