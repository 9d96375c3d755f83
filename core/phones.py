"""Phone numbers, parsed and compared with libphonenumber (the `phonenumbers` package), never by
digit rules: "+248 555 0199" (Seychelles) is not the US number "+1 248-555-0199", although their
digits differ only by the "1" a rule used to put in front of any 10 digits.

A number written without a country code is read in the winery's region (`PHONE_REGION`, default
US). Used by the action server (customer lookups, forms) and the Rasa channels (SMS countries, and
numbers masked in logs).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

import phonenumbers

from core.settings import SharedSettings

DEFAULT_REGION = "US"


def default_region() -> str:
    return SharedSettings.from_env().phone_region or DEFAULT_REGION


def mask_phone(number: Any) -> str:
    """'+15550001111' -> '***1111' (logs never carry a whole number)."""
    digits = re.sub(r"\D", "", str(number or ""))
    return f"***{digits[-4:]}" if len(digits) >= 4 else "***"


def parse(text: object, region: Optional[str] = None) -> Optional[phonenumbers.PhoneNumber]:
    """The number `text` holds, or None when it cannot be a phone number (wrong length, no digits).
    Possible rather than valid: the demo data and tests use the 555 range, which no carrier assigns."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        return None
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException:
        return None
    # IS_POSSIBLE only: a 7-digit local number ("266-0384") has no area code to dial it with
    possible = phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE
    return number if possible else None


def in_text(text: object, region: Optional[str] = None) -> Optional[str]:
    """The first phone number written in a sentence ("8452660384 thanks"), as E.164."""
    number = parse(text, region)
    if number is None and isinstance(text, str) and len(text) <= 500:
        found = next(iter(phonenumbers.PhoneNumberMatcher(text, region or default_region(),
                                                          leniency=phonenumbers.Leniency.POSSIBLE)), None)
        number = parse(phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164)) if found else None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def to_e164(text: object, region: Optional[str] = None) -> Optional[str]:
    """ "(845) 266-0384" -> "+18452660384"; None when it cannot be a phone number."""
    number = parse(text, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def same(a: object, b: object) -> bool:
    """Whether two written numbers are the same phone (both read in the default region)."""
    first = to_e164(a)
    return first is not None and first == to_e164(b)


def country(text: object) -> Optional[str]:
    """The ISO region of a number ("US", "CA", "JM", "SC"...), None when it is no phone number.
    A +1 number in no assigned area code (the 555 range) counts as the country code's main
    region (US): the North American plan shares "+1" between 25 countries."""
    number = parse(text)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code or 0)
    return region if region and region != phonenumbers.UNKNOWN_REGION else None


# ---- SMS pumping: texts are answered and sent only within the countries the winery serves
DEFAULT_SMS_COUNTRIES = ("US", "CA")


def sms_countries(env: Optional[Mapping[str, str]] = None) -> frozenset[str]:
    """SMS_ALLOWED_COUNTRIES ("US,CA" by default): ISO regions whose numbers get SMS."""
    raw = SharedSettings.from_env(env).sms_allowed_countries.replace(",", " ").split()
    return frozenset(code.upper() for code in raw) or frozenset(DEFAULT_SMS_COUNTRIES)


def sms_allowed(number: object, env: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the winery answers or sends SMS to this number: a premium-rate number abroad is what
    SMS pumping texts from (each reply costs the winery)."""
    return country(number) in sms_countries(env)
