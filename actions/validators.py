"""Validators shared by the forms: plain functions, each returning the clean value
or None, so they are unit-tested without Rasa."""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Optional

import yaml

from core import phones
from actions.answering.choose import choose
from actions.answering.facts import load as load_facts
from actions.settings import get_settings
from core.cards import looks_like_card_number

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ' .-]{0,48}[A-Za-zÀ-ÖØ-öø-ÿ.]?$")
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "washington dc": "DC", "washington d.c.": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE",
    "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY",
}
STATE_NAMES = {code: name.title() for name, code in US_STATES.items() if "washington d" not in name}
STATE_NAMES["DC"] = "Washington, DC"


@lru_cache(maxsize=1)
def club_rules() -> dict:
    return yaml.safe_load((get_settings().knowledge_dir / "club" / "rules.yml").read_text(encoding="utf-8"))


def email(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    found = _EMAIL_IN_TEXT.search(text.strip())
    candidate = found.group(0) if found else text.strip()
    candidate = candidate.strip(".,;:<>()[]").lower()
    return candidate if len(candidate) <= 254 and _EMAIL.match(candidate) else None


def phone(text: str) -> Optional[str]:
    """A phone number in any common format, read in the winery's region unless it starts with +, as E.164."""
    if not isinstance(text, str) or looks_like_card_number(text):
        return None
    return phones.in_text(text)


def person_name(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.strip().split())
    cleaned = re.sub(r"^(?:my name is|i am|i'm|it's|its|name:?)\s+", "", cleaned, flags=re.I)
    if not _NAME.match(cleaned) or len(cleaned) > 50:
        return None
    return " ".join(part[:1].upper() + part[1:] for part in cleaned.split())


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y",
                 "%B %d, %Y", "%b %d, %Y", "%m/%d/%y")


def birth_date(text: str, today: Optional[date] = None) -> Optional[date]:
    if not isinstance(text, str):
        return None
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().lower())
    cleaned = " ".join(cleaned.replace(",", ", ").split()).replace(" ,", ",")
    today = today or date.today()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(cleaned.title() if "%b" in fmt.lower() else cleaned, fmt).date()
        except ValueError:
            continue
        if fmt.endswith("%y") and parsed.year > today.year:  # "%y" maps 30 -> 2030: a birth date is past
            parsed = parsed.replace(year=parsed.year - 100)
        if date(today.year - 120, 1, 1) <= parsed <= today:
            return parsed
    return None


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def is_of_age(born: date, today: Optional[date] = None) -> bool:
    return age_on(born, today or date.today()) >= int(club_rules()["minimum_age"])


_STATED_AGE = re.compile(r"\b(?:i'?m|i am|im|she'?s|he'?s|aged?)\s+(?:only |just )?(\d{1,2})\b"
                         r"(?!\s*(?:min|minutes|hours|people|guests|of us|bottles|dollars|bucks|%|\$|ppl|miles|mins))"
                         r"|\b(\d{1,2})\s*(?:years? old|yrs? old|y/?o)\b"
                         # "my son is 19", "she just turned 20": someone else's age
                         r"|\b(?:turned|turns|turning)\s+(\d{1,2})\b(?!\s*(?:min|minutes|hours|%))"
                         r"|\b(?:son|daughter|kid|child|grandson|granddaughter|nephew|niece|brother|sister)\s+(?:is|'s)\s+"
                         r"(?:only |just )?(\d{1,2})\b(?!\s*(?:min|minutes|hours|people|guests|bottles|dollars|%|\$))", re.I)


def stated_age(text: str) -> Optional[int]:
    """An age the customer says ("im 20 but my bday is in feb", "I'm 19 years old"), or None."""
    m = _STATED_AGE.search(text or "")
    return int(next(g for g in m.groups() if g)) if m else None


def under_age(text: str) -> bool:
    age = stated_age(text)
    return age is not None and 10 <= age < int(club_rules()["minimum_age"])


def us_state(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    cleaned = " ".join(re.sub(r"[^A-Za-z. ]", " ", text).split()).lower().rstrip(".")
    if cleaned.upper() in STATE_NAMES:
        return cleaned.upper()
    return US_STATES.get(cleaned)


def allowed_ship_state(code: str) -> bool:
    return code in set(club_rules()["ships_to_states"])


def zip_code(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    cleaned = text.strip()
    return cleaned if _ZIP.match(cleaned) else None


def street(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.split())
    if not 5 <= len(cleaned) <= 120 or not re.search(r"\d", cleaned) or not re.search(r"[A-Za-z]", cleaned):
        return None
    return cleaned


def city(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.split())
    return cleaned.title() if re.fullmatch(r"[A-Za-z][A-Za-z .'-]{1,49}", cleaned) else None


def club_tier(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    lowered = text.lower()
    for tier in club_rules()["tiers"]:
        words = tier.lower().split()
        if tier.lower() in lowered or all(w in lowered for w in words):
            return tier
    aliases = {"jump": "Jumper", "grand": "Grand Prix", "prix": "Grand Prix", "triple": "Triple Crown",
               "crown": "Triple Crown"}
    named = next((tier for key, tier in aliases.items() if key in lowered), None)
    return named or tier_by_value(text)


def tier_by_value(text: str) -> Optional[str]:
    """The tier a customer picks by what it has ("the 12 bottle one", "the cheapest", "the one with
    the lodging discount"), from the fact model."""
    facts = load_facts(get_settings().knowledge_dir)
    picked = choose(text, facts.of("tier"), list(facts.attributes.get("tier", {}).values()))
    return picked[0][0].name if picked and len(picked[0]) == 1 else None


def delivery_method(text: str) -> Optional[str]:
    if not isinstance(text, str):
        return None
    lowered = text.lower()
    if re.search(r"\b(pick|pickup|collect|come get|at the winery|in person)\b", lowered):
        return "Pickup"
    if re.search(r"\b(ship|shipping|deliver|delivery|mail|send)\b", lowered):
        return "Ship"
    return None
