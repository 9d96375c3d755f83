"""Saying one attribute of one thing: its structured value, or, where the structured data lacks
it (or the schema marks it `prose`), the sentences of the thing's own knowledge passages that
speak of it ("the finish", "where the fruit comes from", "how long in barrel")."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Sequence

from actions.answering.attributes import found, normalise
from actions.answering.facts import Attribute, Thing
from core.knowledge.chunks import iter_sentences, load_chunks
from actions.knowledge.text import tokens
from core.texts import render

MAX_SENTENCES = 2


def said_list(items: list[str]) -> str:
    """"a, b and c", as a list is said in a sentence."""
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def formatted(attribute: Attribute, value: Any, thing: Thing) -> str:
    """A value as a customer reads it, by the attribute's format."""
    if attribute.format == "money":
        if thing.values.get("price_text") and attribute.field == "price":
            return str(thing.values["price_text"])
        return f"${value:,.2f}".replace(".00", "") if isinstance(value, (int, float)) else str(value)
    if attribute.format == "points":
        return f"{int(value):,}" if isinstance(value, (int, float)) else str(value)
    if attribute.format == "percent":
        return f"{value:g}%" if isinstance(value, (int, float)) else str(value)
    if attribute.format == "list":
        return said_list([str(v) for v in value])
    if attribute.format == "yes_no":
        return render("utter_fact_yes" if value else "utter_fact_no")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


def structured(thing: Thing, attribute: Attribute, channel: Optional[str]) -> str:
    """The attribute's value said in a sentence of domain.yml; '' when the thing has no value for it."""
    value = thing.value(attribute)
    if _empty(value):
        return ""
    values = dict(name=thing.name, label=attribute.label, value=formatted(attribute, value, thing))
    values.update({k: v for k, v in thing.values.items() if isinstance(v, (str, int, float)) and k not in values})
    return _ONE_OF.sub(r"\1", render(attribute.says or "utter_fact_value", channel, **values))


# a template written for many said of one: "earn 1 points" is "earn 1 point"
_ONE_OF = re.compile(r"(?<![\d,.$])(\b1 (?:point|mile|bottle|guest|hour|person|case|shipment))s\b")


@lru_cache(maxsize=4)
def _chunks(knowledge_dir: str, stamp: float):
    return tuple(load_chunks(Path(knowledge_dir)))


def _passages(thing: Thing, knowledge_dir: Path):
    stamp = max((p.stat().st_mtime for p in knowledge_dir.rglob("*.md")), default=0.0)
    names = [n for n in thing.names() if len(n) > 3]
    for chunk in _chunks(str(knowledge_dir), stamp):
        if thing.sources and chunk.source in thing.sources:
            yield chunk
        elif not thing.sources and any(n in f"{chunk.title} {chunk.heading}".casefold() for n in names):
            yield chunk


def prose(thing: Thing, attribute: Optional[Attribute], question: str, knowledge_dir: Path) -> str:
    """The sentences of the thing's passages that speak of the attribute (or the question's words)."""
    name_words = set(tokens(thing.name))
    asked_words = set(tokens(question)) - name_words
    scored = []
    for chunk in _passages(thing, knowledge_dir):
        for sentence in iter_sentences(chunk.text):
            low = normalise(sentence).replace(" milea estate vineyard ", " ")   # the winery's name says nothing
            attribute_hits = sum(len(w.split()) for w in (attribute.words if attribute else ()) if found(w, low))
            word_hits = len(asked_words & set(tokens(sentence)))
            if attribute is not None and not attribute_hits and attribute.name not in low:
                continue
            score = 2 * attribute_hits + word_hits
            if score:
                scored.append((score, sentence))
    scored.sort(key=lambda s: (-s[0], len(s[1])))
    chosen: list[str] = []
    for score, sentence in scored:
        if len(chosen) == MAX_SENTENCES or score < scored[0][0]:
            break
        if not any(overlap(sentence, c) > 0.6 for c in chosen):
            chosen.append(sentence)
    return " ".join(chosen)


def overlap(a: str, b: str) -> float:
    """The share of the shorter text's words the other one also has (two sentences saying one thing)."""
    x, y = set(tokens(a)), set(tokens(b))
    return len(x & y) / max(1, min(len(x), len(y)))


def say(thing: Thing, attribute: Attribute, question: str, knowledge_dir: Path, channel: Optional[str]) -> str:
    """One attribute of one thing, as the customer should read it; '' when nothing is known of it."""
    if attribute.prose:
        text = prose(thing, attribute, question, knowledge_dir)
        if text:
            return text
    return structured(thing, attribute, channel) or prose(thing, attribute, question, knowledge_dir)



def by_passage(text: str, things: Sequence[Thing], knowledge_dir: Path, ignore: frozenset = frozenset()) -> Optional[Thing]:
    """The one thing of `things` whose own passages alone hold words of the text ("the one with Sang's
    Vineyard fruit", "the one from the really old vines"): a value the structured data does not have.
    None when no such word, or when two things share the best. `ignore`: words that name nothing."""
    said = set(tokens(text)) - ignore - {w for t in things for n in t.names() for w in tokens(n)}
    if not said or len(things) < 2:
        return None
    words = {t: set().union(*(tokens(c.text) for c in _passages(t, knowledge_dir))) for t in things}
    scores = sorted(((len({w for w in said & words[t] if sum(w in words[o] for o in things) == 1}), t)
                     for t in things), key=lambda s: -s[0])
    if scores[0][0] == 0 or scores[1][0] == scores[0][0]:
        return None
    return scores[0][1]
