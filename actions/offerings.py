"""Club tiers, tasting experiences, event spaces and Milea Miles rewards as
structured data (knowledge/club/tiers.yml, knowledge/tastings/experiences.yml,
knowledge/events/spaces.yml, knowledge/loyalty/rewards.yml), for comparisons and
follow-ups that must be computed rather than retrieved."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml


@dataclass(frozen=True)
class Offering:
    """A thing a customer can name: a club tier, a tasting experience or flight, an event space."""
    kind: str                      # tier | experience | space
    name: str
    aliases: tuple[str, ...]
    facts: dict = field(default_factory=dict, compare=False, hash=False)

    def names(self) -> tuple[str, ...]:
        return (self.name.casefold(), *self.aliases)


@lru_cache(maxsize=8)
def _read(path: str, stamp: float) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def _load(knowledge_dir: Path, rel: str) -> dict:
    path = knowledge_dir / rel
    return _read(str(path), path.stat().st_mtime) if path.exists() else {}


TIER_TYPOS = {"Jumper": ("jumper", "jumpers", "jumpr", "jumber"),
              "Grand Prix": ("grand prix", "grandprix", "grand pix", "grand pri", "gran prix", "grand prixx"),
              "Triple Crown": ("triple crown", "triplecrown", "tripple crown", "triple crwn")}


def tiers(knowledge_dir: Path) -> list[Offering]:
    return [Offering("tier", t["name"], TIER_TYPOS.get(t["name"], (t["name"].casefold(),)), dict(t))
            for t in _load(knowledge_dir, "club/tiers.yml").get("tiers") or []]


def experiences(knowledge_dir: Path) -> list[Offering]:
    return [Offering("experience", e["name"], tuple(a.casefold() for a in e.get("aliases") or ()), dict(e))
            for e in _load(knowledge_dir, "tastings/experiences.yml").get("experiences") or []]


def spaces(knowledge_dir: Path) -> list[Offering]:
    return [Offering("space", s["name"], tuple(a.casefold() for a in s.get("aliases") or ()), dict(s))
            for s in _load(knowledge_dir, "events/spaces.yml").get("spaces") or []]


def rewards(knowledge_dir: Path) -> list[dict]:
    return list(_load(knowledge_dir, "loyalty/rewards.yml").get("rewards") or [])


def ships_to(knowledge_dir: Path) -> list[str]:
    return list(_load(knowledge_dir, "club/rules.yml").get("ships_to_states") or [])


def shipment_months(knowledge_dir: Path) -> list[str]:
    return list(_load(knowledge_dir, "club/rules.yml").get("shipment_months") or [])


def next_shipment_month(knowledge_dir: Path, today) -> str:
    """The month of the next club shipment from `today` (this month's counts: it has not gone yet
    for someone signing up now), '' when the months are not known."""
    months = shipment_months(knowledge_dir)
    numbers = sorted((datetime.strptime(m, "%B").month, m) for m in months)
    return next((m for n, m in numbers if n >= today.month), numbers[0][1] if numbers else "")


def by_kind(knowledge_dir: Path, kind: str) -> list[Offering]:
    return {"tier": tiers, "experience": experiences, "space": spaces}[kind](knowledge_dir)


def find(knowledge_dir: Path, kind: str, name: Optional[str]) -> Optional[Offering]:
    if not name:
        return None
    wanted = name.casefold()
    return next((o for o in by_kind(knowledge_dir, kind) if wanted in o.names()), None)


def mentioned(text: str, items: list[Offering]) -> list[Offering]:
    """The offerings a text names, in the order they appear."""
    low = " " + re.sub(r"[^a-z0-9&' ]+", " ", text.casefold()) + " "
    found = []
    for item in items:
        positions = [low.find(f" {alias} ") for alias in item.names() if f" {alias} " in low]
        if positions:
            found.append((min(positions), item))
    return [item for _, item in sorted(found, key=lambda f: f[0])]
