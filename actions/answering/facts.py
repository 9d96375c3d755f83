"""The fact model: every thing the assistant talks about, with typed attributes.

Things are wines (the live catalog joined with knowledge/wine-guide/attributes.yml), club tiers,
tastings, event spaces, Milea Miles rewards, the food menu, lodging and merchandise (knowledge/*.yml
and the catalog).
What can be asked about each kind, and in which words, is knowledge/fact-schema.yml: an
attribute added there (and to the things' data) is answerable, filterable and comparable
without code. The answers, the follow-up resolver and the set operations all read this one model.

Why not rasa_sdk.knowledge_base: its objects have attributes and mentions ("the first one", "it")
resolved against the last list, which this model keeps too (`subject_options`), but it has no
attribute words matched by meaning, no superlatives or choice by value ("the unoaked one"), and no
prose fallback for an attribute the structured data lacks; see README, "How the assistant reads a turn".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import yaml

from actions import offerings

SCHEMA_FILE = "fact-schema.yml"
# The intent that answers questions about each kind (for a message NLU thought off-topic).
INTENT_OF_KIND = {"wine": "ask_wine", "tier": "ask_club", "experience": "ask_tastings", "space": "ask_events",
                  "reward": "ask_loyalty", "merch": "ask_wine", "menu": "ask_visit_policies", "lodging": "ask_about"}
MENU_FILE = "visiting/menu.yml"
LODGING_FILE = "visiting/lodging.yml"


@dataclass(frozen=True)
class Attribute:
    """One askable attribute of a kind (a row of knowledge/fact-schema.yml)."""
    kind: str
    name: str
    field: str
    label: str
    format: str = "text"
    words: tuple[str, ...] = ()
    low: tuple[str, ...] = ()
    high: tuple[str, ...] = ()
    says: str = ""
    prose: bool = False


@dataclass(frozen=True)
class Thing:
    """A thing a customer can name, with its attribute values by field."""
    kind: str
    name: str
    aliases: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    sources: tuple[str, ...] = ()      # knowledge files about it, for what the structured data lacks
    row: Any = field(default=None, compare=False, hash=False)   # the catalog row of a wine (cards)

    def value(self, attribute: Attribute) -> Any:
        return self.values.get(attribute.field)

    def names(self) -> tuple[str, ...]:
        return (self.name.casefold(), *self.aliases)


@lru_cache(maxsize=4)
def _schema(path: str, stamp: float) -> dict[str, dict[str, Attribute]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    schema: dict[str, dict[str, Attribute]] = {}
    for kind, attributes in data.items():
        schema[kind] = {}
        for name, spec in (attributes or {}).items():
            spec = spec or {}
            schema[kind][name] = Attribute(
                kind, name, str(spec.get("field") or name), str(spec.get("label") or name),
                str(spec.get("format") or "text"), tuple(str(w).casefold() for w in spec.get("words") or ()),
                tuple(str(w).casefold() for w in spec.get("low") or ()),
                tuple(str(w).casefold() for w in spec.get("high") or ()),
                str(spec.get("says") or ""), bool(spec.get("prose")))
    return schema


def schema(knowledge_dir: Path) -> dict[str, dict[str, Attribute]]:
    path = knowledge_dir / SCHEMA_FILE
    return _schema(str(path), path.stat().st_mtime) if path.exists() else {}


def _reward_aliases(reward: str) -> tuple[str, ...]:
    """The ways a reward is named: its whole text and each of its alternatives ("hat or wine key")."""
    text = re.sub(r"\(.*?\)", "", reward.casefold()).strip()
    text = re.sub(r"^(a|an|the)\s+", "", text)
    parts = [p.strip() for p in re.split(r",\s*or\s+|\s+or\s+", text) if p.strip()]
    return tuple(dict.fromkeys([text, *[re.sub(r"^(a|an|the)\s+", "", p) for p in parts]]))


@dataclass
class Facts:
    """The things of every kind, and the schema that says what can be asked about them."""
    things: dict[str, list[Thing]]
    attributes: dict[str, dict[str, Attribute]]
    knowledge_dir: Optional[Path] = None   # the things' own passages (what the structured data lacks)

    def of(self, kind: str) -> list[Thing]:
        return self.things.get(kind, [])

    def standalone(self, kind: str) -> list[Thing]:
        """The things of a kind that stand on their own: an add-on (`standalone: false`, an extra pour)
        is asked about by name, never chosen as "the cheapest tasting"."""
        return [t for t in self.of(kind) if t.values.get("standalone", True) is not False]

    def find(self, kind: str, name: Optional[str]) -> Optional[Thing]:
        wanted = (name or "").casefold()
        return next((t for t in self.of(kind) if wanted and wanted in t.names()), None)

    def among(self, kind: str, names: Sequence[str]) -> list[Thing]:
        found = [self.find(kind, n) for n in names]
        return [t for t in found if t is not None]


def load(knowledge_dir: Path, wine_rows: Sequence = (), wines: Sequence = (), products: Sequence = ()) -> Facts:
    """The fact model for this turn: the live wine rows and merchandise, and the structured files.

    Args: knowledge_dir: the knowledge folder; wine_rows: actions.wine_catalog.WineRow of the live
        catalog; wines: actions.wine_catalog.Wine (their knowledge files); products: the catalog's products.
    Returns: the things of every kind with the schema.
    """
    sources = {w.title: w.sources for w in wines}
    things: dict[str, list[Thing]] = {"wine": [], "tier": [], "experience": [], "space": [], "reward": [], "merch": [],
                                      "menu": [], "lodging": []}
    for row in wine_rows:
        values = {"price": row.price, "price_text": row.price_text, "vintage": row.vintage or "NV",
                  "type": row.type, "style": row.style, "body": row.body, "oak": row.oak,
                  "grapes": list(row.grapes), "notes": list(row.notes), "pairs_with": list(row.pairs_with),
                  "in_stock": row.in_stock, "rating_points": row.rating_points, "rating_by": row.rating_by}
        things["wine"].append(Thing("wine", row.title, (), values, sources.get(row.title, ()), row))
    for kind, items in (("tier", offerings.tiers(knowledge_dir)), ("experience", offerings.experiences(knowledge_dir)),
                        ("space", offerings.spaces(knowledge_dir))):
        things[kind] = [Thing(kind, o.name, o.aliases, dict(o.facts)) for o in items]
    things["reward"] = [Thing("reward", r["reward"], _reward_aliases(r["reward"]), dict(r))
                        for r in offerings.rewards(knowledge_dir)]
    things["merch"] = [Thing("merch", p.title, (), {"price": p.price_cents / 100 if p.price_cents is not None
                                                   else None})
                       for p in products or () if (p.type or "") == "General Merchandise"]
    things["menu"] = [Thing("menu", str(m["name"]), tuple(str(a).casefold() for a in m.get("aliases") or ()), dict(m))
                      for m in read_yaml(knowledge_dir / MENU_FILE).get("items") or []]
    things["lodging"] = [Thing("lodging", str(p["name"]), tuple(str(a).casefold() for a in p.get("aliases") or ()),
                               dict(p)) for p in read_yaml(knowledge_dir / LODGING_FILE).get("lodging") or []]
    return Facts(things, schema(knowledge_dir), knowledge_dir)


def read_yaml(path: Path) -> dict:
    return _read_yaml(str(path), path.stat().st_mtime) if path.exists() else {}


@lru_cache(maxsize=16)
def _read_yaml(path: str, stamp: float) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
