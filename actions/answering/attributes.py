"""Which attribute a message asks about, and whether it asks for the lowest or highest value.

The words of each attribute come from knowledge/fact-schema.yml. A phrase of the schema found in the
message counts by its length in words (so "come from" outweighs "grapes" in "where do the grapes
come from"); when no phrase is found, the local embeddings (wordllama, shipped in its package)
compare the message with each attribute's label and words, and a clear winner counts.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence

import numpy as np

from actions.answering.facts import Attribute

log = logging.getLogger(__name__)

DENSE_MIN = 0.42      # cosine of message and attribute below which meaning alone does not count
DENSE_MARGIN = 0.08   # ... and by how much the best must beat the second


@dataclass(frozen=True)
class Asked:
    attribute: Attribute
    direction: str = ""     # "low" | "high" for a superlative ("cheapest", "oldest"), else ""
    score: float = 0.0
    phrase: str = ""        # the words that said it ("" when found by meaning)


# Shorthand of text messages, read as the words they stand for.
SHORTHAND = {"yr": "year", "yrs": "years", "pts": "points", "pt": "points", "ppl": "people", "hrs": "hours",
             "hr": "hour", "mins": "minutes", "min": "minutes", "diff": "difference", "abt": "about",
             "btls": "bottles", "btl": "bottle", "w": "with", "wat": "what", "wut": "what", "hw": "how", "r": "are"}


def normalise(text: str) -> str:
    text = (text or "").casefold().replace("’", "'").replace("-", " ")
    return " " + " ".join(SHORTHAND.get(w, w) for w in re.findall(r"[a-z0-9%$']+", text)) + " "


@lru_cache(maxsize=2048)
def phrase_pattern(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in normalise(phrase).split()]
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(words) + r"(?:s|es|'s)?(?![a-z0-9])")


def found(phrase: str, text: str) -> bool:
    """Whether `phrase` stands in the normalised `text` as whole words (a plural counts)."""
    return bool(phrase_pattern(phrase).search(text))


_AMOUNT = re.compile(r"how (much|many)")
AMOUNT_REACH = 14   # characters after "how much" in which another attribute's phrase makes it that one's amount


QUESTION_CLAUSE_BONUS = 0.25   # of two attributes named as often, the one the question clause names
_COMPARATIVE = re.compile(r"(est|er)$|^(most|least|more|less)\b")
_WH = re.compile(r"\b(what|whats|what's|which|how|when|where|who|whos|is|are|does|do|can)\b", re.I)


def question_clause(text: str) -> str:
    """The last clause that asks ("..., what's the finish like"), or '' when none does."""
    clauses = [c for c in re.split(r"[,;.!?]+|\s[-–—]\s", text or "") if _WH.search(c)]
    return clauses[-1] if clauses else ""


def lexical(text: str, attributes: Iterable[Attribute]) -> list[Asked]:
    """Attributes whose words or superlatives stand in the text, best first: by the words of all their
    phrases found ("how much ... per shipment" is the price), then by the one named first ("the
    discount on bottles" asks the discount)."""
    low = normalise(text)
    asking = normalise(question_clause(text))
    attributes = list(attributes)
    found_by: dict = {}
    for attribute in attributes:
        matches = []
        for direction, phrases in (("low", attribute.low), ("high", attribute.high), ("", attribute.words)):
            for phrase in phrases:
                m = phrase_pattern(phrase).search(low)
                if m:
                    matches.append((len(phrase.split()) + (0.5 if direction else 0.0), m.start(), m.end(), direction,
                                    phrase))
        found_by[attribute] = matches
    # "how much new oak", "how many bottles": the amount of what follows, not a price or a count of its own
    # ("how much does it take off?": within a few words, the discount)
    starts = {m[1] for a, ms in found_by.items() for m in ms if not _AMOUNT.fullmatch(m[4])}
    scored = []
    for attribute in attributes:
        matches = [m for m in found_by[attribute]
                   if not (_AMOUNT.fullmatch(m[4]) and any(m[2] < s <= m[2] + AMOUNT_REACH for s in starts))]
        if not matches:
            continue
        matches.sort(key=lambda x: -x[0])
        spans: list[tuple[int, int]] = []
        total = 0.0
        for score, start, end, _, _ in matches:   # each stretch of the message counts once
            if not any(start < e and s < end for s, e in spans):
                spans.append((start, end))
                total += score
        # "which tier is the cheapest, and how much...": a superlative said of it anywhere sets the direction
        # (a comparative before a looser word: "stretch the budget, what's the pricier one")
        best = next((m for m in matches if m[3] and _COMPARATIVE.search(m[4])),
                    next((m for m in matches if m[3]), matches[0]))
        if asking and any(phrase_pattern(m[4]).search(asking) for m in matches):
            total += QUESTION_CLAUSE_BONUS   # "the reserve of that same grape, what's the finish like?"
        first = min(start for start, _ in spans)
        scored.append((total, -first, Asked(attribute, best[3], total, best[4])))
    return [a for _, _, a in sorted(scored, key=lambda s: (-s[0], -s[1]))]


def dense(text: str, attributes: Sequence[Attribute], embedder) -> Optional[Asked]:
    """The attribute the message means when its meaning is clearly closest to one (embeddings)."""
    if embedder is None or not attributes or not text.strip():
        return None
    try:
        matrix = _attribute_vectors(embedder, tuple(attributes))
        query = embedder.embed([text])[0]
    except Exception as exc:  # meaning is a help, never a reason to fail the answer
        log.info("attribute embeddings skipped: %s", type(exc).__name__)
        return None
    scores = matrix @ query
    order = np.argsort(-scores)
    best = float(scores[order[0]])
    second = float(scores[order[1]]) if len(order) > 1 else 0.0
    if best >= DENSE_MIN and best - second >= DENSE_MARGIN:
        return Asked(attributes[int(order[0])], "", best)
    return None


_VECTORS: dict = {}


def _attribute_vectors(embedder, attributes: tuple[Attribute, ...]) -> np.ndarray:
    key = (getattr(embedder, "id", id(embedder)), attributes)
    if key not in _VECTORS:
        _VECTORS[key] = embedder.embed([f"{a.label}: {', '.join(a.words)}" for a in attributes])
    return _VECTORS[key]


def asked(text: str, attributes: Sequence[Attribute], embedder=None) -> list[Asked]:
    """What the message asks about among `attributes`, best first: by words, else by meaning."""
    by_words = lexical(text, attributes)
    if by_words:
        return by_words
    by_meaning = dense(text, attributes, embedder)
    return [by_meaning] if by_meaning else []
