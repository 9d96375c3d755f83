"""A head count in a message ("there'll be 12 of us", "party of nine", "20 ppl") and what a party
of that size needs (knowledge/visiting/party-sizes.yml): a group plan gets the group policy."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from actions.answering.facts import read_yaml
from actions.answering.numbers import COUNT_GROUP, value

PARTY_FILE = "visiting/party-sizes.yml"
_COUNT = re.compile(rf"\b{COUNT_GROUP}\s*-?\s*(?:of us|people|ppl|guests|persons?|adults|friends|girls|guys|ladies|pax|"
                    rf"coworkers|colleagues|total|in total|altogether|all together|in all|riders|cyclists|runners|"
                    rf"hikers|couples|teammates|classmates|students|teachers|members|relatives|cousins|folks)\b|"
                    rf"\b(?:party|group|table|team|crew|family|bunch|bachelorette|bachelor party) of\s+"
                    rf"(?:about |like |around |roughly |maybe )?{COUNT_GROUP}\b|"
                    rf"\b(?:we(?:'re| are| r|'d be| would be|'ll be| will be)|there(?:'ll| will) be)\s+"
                    rf"(?:now\s+)?(?:at\s+|up to\s+)?(?:about |like |around |roughly )?{COUNT_GROUP}\b"
                    # "we're 10 min late", "we'll be 2 hours", "we'll be there at 5pm": a time, not a head count
                    rf"(?!\s*(?:min|mins|minutes?|hrs?|hours?|sec|seconds?|days?|weeks?|miles?|mi|km|am|pm|"
                    rf"o'?clock|ish)\b|:\d)|"
                    # "me, my wife, the kids and their spouses, that's ten": the sum said after the names
                    rf"\b(?:that's|thats|that is|which makes|that makes|makes it|making it)\s+{COUNT_GROUP}"
                    rf"(?=\s*(?:[,.?!;]|$|plus\b|people\b|of us\b|total\b|in all\b|altogether\b|with\b|and\b))",
                    re.I)

# a count revised in the talk: "3 more might come so 17", "two dropped out, that makes 10"
_REVISED = re.compile(rf"\b(?:more|fewer|less|extra|another|plus|drop(?:s|ped)? out)\b.*?"
                      rf"\b(?:so|making it|makes it|make it|that makes|now)\s+(?:about |like |around |maybe )?{COUNT_GROUP}\s*(?=[,.?!]|$)|"
                      # "my cousins are coming too, make it 18"
                      rf"\bmake it\s+(?:about |like |around |maybe )?{COUNT_GROUP}\s*(?=[,.?!]|$)|"
                      # "what if the headcount grows to 18?"
                      rf"\b(?:grows?|grew|goes|went|gets?|rises?|climbs?|increases?|bumps?|jumps?|balloons?)\s+(?:up\s+)?"
                      rf"to\s+(?:about |like |around |maybe )?{COUNT_GROUP}\b", re.I)
_NOT_PEOPLE = re.compile(r"\b(bottles?|cases?|glass(es)?|pours?|points|miles|dollars|bucks)\b", re.I)


def head_count(text: str) -> Optional[int]:
    """The number of people a message says are coming, or None."""
    m = _COUNT.search(text or "") or (None if _NOT_PEOPLE.search(text or "") else _REVISED.search(text or ""))
    if not m:
        return None
    word = next(g for g in m.groups() if g)
    return value(word) or None


# What else a group plan asks about, besides its size ("12 of us plus our golden retriever"): the
# visit policies, not the rest of the knowledge base.
_POLICY_WORDS = re.compile(r"\b(dogs?|pups?|puppy|pets?|corgi|retriever|lab|doodle|beagle|husky|poodle|terrier|shepherd|"
                           r"kids?|child|children|toddlers?|"
                           r"babies|baby|strollers?|wheelchairs?|walker|cake|cupcakes|outside food|our own|bring)\b", re.I)


def rest_intent(text: str, intent: str) -> str:
    """The intent to answer the rest of a group plan as: a pet, a child or food brought along asks
    the visit policies."""
    return "ask_visit_policies" if _POLICY_WORDS.search(text or "") else intent


def rest_of(text: str) -> str:
    """What a group plan asks besides its size: the parts that name a pet, a child or food brought
    along ("plus our golden retriever"), else the message without its head count. Searched whole,
    the plan's other words drown that part."""
    rest = _COUNT.sub(" ", text or "")
    parts = [p for p in re.split(r"[.,;:!?()\-]+|\b(?:plus|and|with|also|but)\b", rest) if p and _POLICY_WORDS.search(p)]
    return ", ".join(parts) if parts else rest


def policy_parts(text: str) -> list[str]:
    """The parts of a message that each ask a visit rule ("my mother uses a wheelchair", "my two kids"),
    when it asks more than one."""
    pieces = [p.strip() for p in re.split(r"[.,;:!?()]+|\b(?:plus|and|also|but)\b", text or "") if p and p.strip()]
    found = [(p, m.group(0).casefold()) for p in pieces if (m := _POLICY_WORDS.search(p))]
    return [p for p, _ in found] if len({topic for _, topic in found}) > 1 else []


def party_rule(knowledge_dir: Path, count: int) -> Optional[str]:
    """What a party of `count` needs, from the party sizes table."""
    for row in read_yaml(knowledge_dir / PARTY_FILE).get("party_sizes") or []:
        if int(row["from"]) <= count <= int(row["to"]):
            return str(row["rule"])
    return None
