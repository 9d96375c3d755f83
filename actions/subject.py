"""What the conversation is about: the subject slots and how a turn refers to them.

The domain holds one slot per kind of subject (see domain.yml, "subject" slots):
`wine`, `subject_tier`, `subject_experience`, `subject_space`, `subject_date`,
`subject_state`; `subject_kind` says which kind was talked about last,
`subject_options` the things last compared or listed (for "the cheaper one"),
`subject_aspect` what was asked about it (price, pairing, ...) and
`subject_topic` the knowledge topic (intent) of the last answer. Entities fill
some of them through their mappings; the answering actions set all of them to
what they actually talked about.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

KINDS = ("wine", "tier", "experience", "space", "date", "state")
SLOT_OF = {"wine": "wine", "tier": "subject_tier", "experience": "subject_experience", "space": "subject_space",
           "date": "subject_date", "state": "subject_state"}
SUBJECT_SLOTS = (*SLOT_OF.values(), "subject_kind", "subject_options", "subject_aspect", "subject_topic")

_REFERS_BACK = re.compile(
    r"\b(it|its|it's|itss|that|this|that one|this one|them|they|those|these|the other|other one|which one|"
    r"which of them|which is|which 1|which|either|both|one|ones|thx one|same)\b", re.I)
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|so|ok|okay|k|hmm|what about|how about|wbu|wat about|whatabout|"
                              r"what abt|how abt|and what about|n)\b", re.I)
_CORRECTION = re.compile(r"\b(i meant|i mean|meant|sorry|no,? not|not that|actually|rather|instead|i said|"
                         r"my bad|oops|correction)\b", re.I)

# "on a budget" asks the cheapest; "budget is $50", "budget for a gift" state a bound or a purpose
CHEAP_BUDGET = r"budget(?! for| time| is| of| around| under| max| \$| \d)"
ASPECTS = [  # first match wins; order matters ("buy" before "price": "how much to buy it online")
    ("buy", r"\b(buy|order|purchase|checkout|check out|add to cart|ship me|online|take it|get it|i'?ll take)\b"),
    ("cheaper", rf"\b(cheaper|cheapest|less expensive|least expensive|lower price|more affordable|{CHEAP_BUDGET}|"
                r"better value|best value|cheap one)\b"),
    ("dearer", r"\b(more expensive|most expensive|pricier|priciest|fanciest|top of the line|splurge|dearest|dearer)\b"),
    ("discount", r"\b(discount|percent off|% off|savings|save|how much off|what.{0,6} off)\b|%\s*off\b"),
    ("more", r"\b(more bottles|most bottles|bigger|biggest|largest|more wine|most wine)\b"),
    ("best", r"\b(best rated|best-rated|highest rated|top rated|best|rating|rated|points|award)\b"),
    ("pairing", r"\b(pair|pairs|pairing|go with|goes with|goes well|match|serve with|with (steak|fish|chicken|"
                r"pizza|lobster|oysters|cheese|pasta|salmon|burgers?|lamb|pork|duck|sushi|thai|turkey))\b"),
    ("vintage", r"\b(vintage|what year|which year)\b"),
    ("stock", r"\b(in stock|stock|available|availability|sold out|left|have any)\b"),
    # "how much of it was made?": a quantity, not a price
    ("price", r"\b(how much(?! (of (it|that|this|those|them)\b|(was|were|is|are|did you|do you) (made|make|produced?)\b))|price|prices|priced|cost|costs|\$|expensive|hw much|how mch|hm|pricey)\b"),
    ("capacity", r"\b(how many (people|guests)|capacity|hold|fit|seat|seats)\b"),
    ("bottles", r"\b(how many bottles|bottles)\b"),
    ("difference", r"\b(difference|differ|compare|comparison|vs|versus|better|or the)\b"),
]


def aspect_of(text: str) -> str:
    for name, pattern in ASPECTS:
        if re.search(pattern, text, re.I):
            return name
    return ""


def refers_back(text: str) -> bool:
    return bool(_REFERS_BACK.search(text) or _FOLLOW_UP_START.search(text))


# "is that one a red?", "so is it dry": a question about what the subject itself is
_IS_IT = re.compile(r"^\s*(?:so\s+|and\s+|wait\s+)?(?:is|was|isn'?t)\s+(?:it|that|this)(?:\s+one)?\b", re.I)


def asks_what_it_is(text: str) -> bool:
    return bool(_IS_IT.search(text))


def is_correction(text: str) -> bool:
    return bool(_CORRECTION.search(text))


US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY", "washington dc": "DC", "dc": "DC", "d.c.": "DC", "district of columbia": "DC",
    "nyc": "NY", "cali": "CA", "jersey": "NJ", "mass": "MA", "philly": "PA",
}
STATE_NAMES: dict = {}
for _name, _code in US_STATES.items():   # the first (full) name of each code
    if len(_name) > 3:
        STATE_NAMES.setdefault(_code, _name)
STATE_NAMES["DC"] = "Washington DC"
STATE_NAMES["NY"] = "New York"
_STATE_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, US_STATES), key=len, reverse=True)) + r")\b", re.I)
_CODE_RE = re.compile(r"\b(" + "|".join(sorted(set(US_STATES.values()))) + r")\b")  # upper case only


# Cities people name for where they live ("my sister in Minneapolis"): the state they are in.
CITY_STATES = {"minneapolis": "MN", "st paul": "MN", "saint paul": "MN", "duluth": "MN", "anchorage": "AK",
               "fairbanks": "AK", "juneau": "AK", "miami": "FL", "orlando": "FL", "tampa": "FL", "jacksonville": "FL",
               "naples": "FL", "brooklyn": "NY", "manhattan": "NY", "queens": "NY", "buffalo": "NY", "albany": "NY",
               "rochester": "NY", "syracuse": "NY", "nyc": "NY", "washington dc": "DC", "los angeles": "CA",
               "san francisco": "CA", "san diego": "CA", "chicago": "IL", "boston": "MA", "philadelphia": "PA",
               "philly": "PA", "houston": "TX", "dallas": "TX", "austin": "TX", "seattle": "WA", "denver": "CO",
               "atlanta": "GA", "phoenix": "AZ", "newark": "NJ", "hoboken": "NJ", "jersey city": "NJ",
               "hartford": "CT", "stamford": "CT", "baltimore": "MD", "detroit": "MI", "portland": "OR"}
_CITY_RE = re.compile(r"\b(" + "|".join(sorted(CITY_STATES, key=len, reverse=True)) + r")\b", re.I)


def states_in(text: str, entities: list[str]) -> list[str]:
    """State codes named in the text ("Florida", "FL", "new jersey", "Anchorage") or by us_state entities."""
    codes = [CITY_STATES[m.group(1).lower()] for m in _CITY_RE.finditer(text or "")]
    for value in [*entities, text]:
        for m in _STATE_RE.finditer(value):
            codes.append(US_STATES[m.group(1).lower()])
        for m in _CODE_RE.finditer(value):
            if m.group(1) not in ("OR", "IN", "ME", "OK", "HI", "LA", "MA", "DE", "PA", "OH", "ID", "NV"):
                codes.append(m.group(1))
    return list(dict.fromkeys(codes))


def state_name(code: str) -> str:
    return STATE_NAMES.get(code, code).title().replace("Dc", "DC")


_DATE_WORDS = re.compile(
    r"\b(today|tonight|tomorrow|tmrw|tmr|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|christmas|xmas|new years?|thanksgiving|"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(st|nd|rd|th)?|\d{1,2}/\d{1,2}|"
    r"the \d{1,2}(st|nd|rd|th))\b",
    re.I)


def names_a_day(text: str, entities: list[str]) -> bool:
    return bool(entities) or bool(_DATE_WORDS.search(text))


@dataclass
class Subject:
    """What the tracker says the conversation is about before this turn is answered."""
    kind: str = ""
    wine: str = ""
    tier: str = ""
    experience: str = ""
    space: str = ""
    date: str = ""
    state: str = ""
    options: list = field(default_factory=list)
    aspect: str = ""
    topic: str = ""

    def current(self, kind: Optional[str] = None) -> str:
        return getattr(self, kind or self.kind, "") if (kind or self.kind) in KINDS else ""

    @classmethod
    def from_slots(cls, get) -> "Subject":
        def text(name: str) -> str:
            value = get(name)
            return value if isinstance(value, str) else ""

        options = get("subject_options")
        kind = text("subject_kind") or ("wine" if text("wine") else "")
        return cls(kind=kind, wine=text("wine"), tier=text("subject_tier"),
                   experience=text("subject_experience"), space=text("subject_space"), date=text("subject_date"),
                   state=text("subject_state"), options=[o for o in options or [] if isinstance(o, str)],
                   aspect=text("subject_aspect"), topic=text("subject_topic"))
