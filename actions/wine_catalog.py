"""The wines the winery makes, as known from knowledge/wine/, and fuzzy matching
of what a customer types ("reserve cab franc", "the rose") to one of them."""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from core.knowledge.chunks import FRONT_MATTER
from core.wine_types import wine_type
import yaml

ABBREVIATIONS = {"cab": "cabernet", "sav": "sauvignon", "chard": "chardonnay", "bdx": "bordeaux",
                 "rosé": "rose", "gruner": "gruner veltliner", "bubbly": "sparkling", "bubbles": "sparkling"}
# Grape and style words: naming one of these is naming every wine that carries it.
STYLE_WORDS = frozenset({"cabernet", "franc", "chardonnay", "rose", "seyval", "blanc", "gruner", "veltliner",
                         "bdx", "bordeaux", "brut", "cuvee", "vincenza", "clinton", "reserve"})
FUZZY_MIN = 0.7
_VINTAGE = re.compile(r"^(?:19|20)\d\d\s+|^NV\s+", re.I)


@dataclass(frozen=True)
class Wine:
    title: str
    sources: tuple[str, ...] = ()  # its files under knowledge/ (catalog facts and the wine guide)


@lru_cache(maxsize=4096)  # every turn normalises every wine title again
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
            match = FRONT_MATTER.match(text)
            meta = (yaml.safe_load(match.group(1)) or {}) if match else {}
            title = _VINTAGE.sub("", str(meta.get("wine") or meta.get("title") or path.stem)).strip()
            title = re.sub(r"\s*\((?:NV|non-vintage)\)$", "", title, flags=re.I)
            by_title.setdefault(title, []).append(f"{folder}/{path.name}")
    return tuple(Wine(title, tuple(sources)) for title, sources in sorted(by_title.items()))


def _newest_change(knowledge_dir: Path) -> float:
    """The newest modification time of the wine files: a changed file reloads the list.

    Runs on every turn, so it lists the folders with os.scandir (a pathlib glob cost ~1 ms a turn).
    """
    newest = 0.0
    for folder in WINE_FOLDERS:
        try:
            entries = list(os.scandir(knowledge_dir / folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name.endswith(".md"):
                newest = max(newest, entry.stat().st_mtime)
    return newest


def load_wines(knowledge_dir: Path, extra_titles: tuple[str, ...] = ()) -> tuple[Wine, ...]:
    """Wines from knowledge/, plus catalog titles not synced yet (they have no files)."""
    stamp = _newest_change(knowledge_dir)
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
    phrased = _by_phrase(query, wines)
    if phrased:
        return phrased
    scored = []
    q_words = set(query.split())
    for w in wines:
        title = _norm(w.title)
        t_words = set(title.split())
        overlap = len(q_words & t_words) / len(t_words)
        # a loose character match alone ("the reserve one" ~ "reserve chardonnay") is not a name
        scored.append((max(overlap, _close_ratio(query, title)), w))
    scored.sort(key=lambda s: -s[0])
    best = scored[0][0] if scored else 0
    styles = q_words & STYLE_WORDS
    if best >= 0.6:
        found = [w for s, w in scored if s >= best - 0.05]
        # a grape or style word alone ("do u have chard") names every wine that carries it, however
        # alike the rest of the sentence looks to one title
        if not styles or any(q_words & (set(_norm(w.title).split()) - STYLE_WORDS) for w in found):
            return found
    if not styles:
        return []
    return [w for w in wines if styles <= set(_norm(w.title).split())]


def _close_ratio(query: str, title: str) -> float:
    """difflib's similarity of query and title when it reaches FUZZY_MIN, else 0.0.

    The quick upper bounds rule out most titles before the full comparison, which was half of an
    hours or knowledge turn's time in the action server (every turn looks for named wines).
    """
    matcher = difflib.SequenceMatcher(None, query, title)
    if matcher.real_quick_ratio() < FUZZY_MIN or matcher.quick_ratio() < FUZZY_MIN:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= FUZZY_MIN else 0.0


_PLAIN = {"farmhouse", "reserve", "hvv", "right", "bank", "rose", "blend", "red", "blanc"}


def _by_phrase(query: str, wines: tuple[Wine, ...]) -> list[Wine]:
    """Wines named by a run of two or more of their title's words ("blanc de blanc", "queen meadow"),
    longest run first; runs of only generic words ("right bank") do not count."""
    padded = f" {query} "
    best, found = 0, []
    for w in wines:
        words = _norm(w.title).split()
        for n in range(len(words), 1, -1):
            grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
            hit = [g for g in grams if f" {g} " in padded and not set(g.split()) <= _PLAIN]
            if hit:
                if n > best:
                    best, found = n, [w]
                elif n == best:
                    found.append(w)
                break
    return found


def find_wine(name: str, wines: tuple[Wine, ...]) -> Optional[Wine]:
    found = match_wines(name, wines)
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------- structured rows
ATTRIBUTES_FILE = "wine-guide/attributes.yml"


@dataclass(frozen=True)
class WineRow:
    """One wine as the structured answers see it: live Commerce7 facts joined with
    the attributes of knowledge/wine-guide/attributes.yml (by title)."""
    title: str
    price: Optional[float]          # dollars per bottle, live
    price_text: str
    vintage: Optional[int]
    in_stock: Optional[bool]
    slug: Optional[str]
    type: str = ""                  # red | white | rose | sparkling
    style: str = ""
    body: str = ""
    oak: Optional[bool] = None
    grapes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    pairs_with: tuple[str, ...] = ()
    like: tuple[str, ...] = ()
    rating_points: Optional[int] = None
    rating_by: str = ""

    @property
    def label(self) -> str:
        return f"{self.vintage} {self.title}" if self.vintage else f"{self.title} (NV)"

    def as_card(self) -> dict:
        """The row as plain data, for a card payload or a prompt."""
        return {"title": self.title, "vintage": self.vintage, "price": self.price_text, "type": self.type,
                "style": self.style, "body": self.body, "in_stock": self.in_stock, "slug": self.slug,
                "pairs_with": list(self.pairs_with), "notes": list(self.notes),
                "rating": f"{self.rating_points} points, {self.rating_by}" if self.rating_points else ""}


@lru_cache(maxsize=4)
def _attributes(path: str, stamp: float) -> dict:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(k).casefold(): v or {} for k, v in (data.get("wines") or {}).items()}


def wine_attributes(knowledge_dir: Path) -> dict:
    path = knowledge_dir / ATTRIBUTES_FILE
    return _attributes(str(path), path.stat().st_mtime) if path.exists() else {}


def wine_rows(products, knowledge_dir: Path) -> list[WineRow]:
    """Every wine product on sale, with its attributes; order: the catalog's."""
    from actions.commerce7.catalog import in_stock
    from core.commerce7.sync import price_text

    attrs = wine_attributes(knowledge_dir)
    rows = []
    for p in products or []:
        if (p.type or "") != "Wine":
            continue
        a = attrs.get(p.title.strip().casefold(), {})
        rating = a.get("rating") or {}
        rows.append(WineRow(
            title=p.title, price=p.price_cents / 100 if p.price_cents is not None else None,
            price_text=price_text(p),
            vintage=p.vintage, in_stock=in_stock(p), slug=p.slug,
            type=str(a.get("type") or wine_type(p.varietal or "")), style=str(a.get("style") or ""),
            body=str(a.get("body") or ""), oak=a.get("oak"),
            grapes=tuple(a.get("grapes") or ()), notes=tuple(a.get("notes") or ()),
            pairs_with=tuple(a.get("pairs_with") or ()), like=tuple(a.get("like") or ()),
            rating_points=rating.get("points"), rating_by=str(rating.get("by") or "")))
    return rows
