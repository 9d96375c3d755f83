"""The wines the winery makes, as known from knowledge/wine/, and fuzzy matching
of what a customer types ("reserve cab franc", "the rose") to one of them."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from actions.knowledge.chunks import _FRONT_MATTER
import yaml

ABBREVIATIONS = {"cab": "cabernet", "sav": "sauvignon", "chard": "chardonnay", "bdx": "bordeaux",
                 "rosé": "rose", "gruner": "gruner veltliner", "bubbly": "sparkling", "bubbles": "sparkling"}
# Grape and style words: naming one of these is naming every wine that carries it.
STYLE_WORDS = frozenset({"cabernet", "franc", "chardonnay", "rose", "seyval", "blanc", "gruner", "veltliner",
                         "bdx", "bordeaux", "brut", "cuvee", "vincenza", "clinton"})
_VINTAGE = re.compile(r"^(?:19|20)\d\d\s+|^NV\s+", re.I)


@dataclass(frozen=True)
class Wine:
    title: str
    sources: tuple[str, ...] = ()  # its files under knowledge/ (catalog facts and the wine guide)


def _norm(text: str) -> str:
    words = re.findall(r"[a-zé]+", text.lower())
    return " ".join(ABBREVIATIONS.get(w, w) for w in words if w not in {"the", "a", "your", "of"})


WINE_FOLDERS = ("wine", "wine-guide")


@lru_cache(maxsize=4)
def _load(root: str, stamp: float) -> tuple[Wine, ...]:
    by_title: dict[str, list[str]] = {}
    for folder in WINE_FOLDERS:
        for path in sorted((Path(root) / folder).glob("*.md")):
            if path.stem == "overview":
                continue
            text = path.read_text(encoding="utf-8")
            match = _FRONT_MATTER.match(text)
            meta = (yaml.safe_load(match.group(1)) or {}) if match else {}
            title = _VINTAGE.sub("", str(meta.get("wine") or meta.get("title") or path.stem)).strip()
            by_title.setdefault(title, []).append(f"{folder}/{path.name}")
    return tuple(Wine(title, tuple(sources)) for title, sources in sorted(by_title.items()))


def load_wines(knowledge_dir: Path, extra_titles: tuple[str, ...] = ()) -> tuple[Wine, ...]:
    """Wines from knowledge/, plus catalog titles not synced yet (they have no files)."""
    stamp = max((p.stat().st_mtime for f in WINE_FOLDERS for p in (knowledge_dir / f).glob("*.md")), default=0.0)
    wines = _load(str(knowledge_dir), stamp)
    known = {w.title.casefold() for w in wines}
    return wines + tuple(Wine(t) for t in extra_titles if t.casefold() not in known)


def match_wines(text: str, wines: tuple[Wine, ...]) -> list[Wine]:
    """Wines the text names: exact containment first, then close fuzzy matches."""
    query = _norm(text)
    if not query:
        return []
    exact = [w for w in wines if _norm(w.title) in query]
    if exact:
        return exact
    scored = []
    q_words = set(query.split())
    for w in wines:
        title = _norm(w.title)
        t_words = set(title.split())
        overlap = len(q_words & t_words) / len(t_words)
        ratio = difflib.SequenceMatcher(None, query, title).ratio()
        scored.append((max(overlap, ratio), w))
    scored.sort(key=lambda s: -s[0])
    best = scored[0][0] if scored else 0
    if best >= 0.6:
        return [w for s, w in scored if s >= best - 0.05]
    styles = q_words & STYLE_WORDS
    if not styles:
        return []
    return [w for w in wines if styles <= set(_norm(w.title).split())]


def find_wine(name: str, wines: tuple[Wine, ...]) -> Optional[Wine]:
    found = match_wines(name, wines)
    return found[0] if len(found) == 1 else None
