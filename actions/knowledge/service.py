"""The knowledge service the actions call: scope -> retrieve -> answer -> cache."""
from __future__ import annotations

import asyncio
import re
import logging
import threading
from dataclasses import dataclass
from typing import Optional, Sequence

from actions.knowledge.answer import Composed, LLMAnswerer, compose_offline
from actions.knowledge.cache import TTLCache, normalise_question
from actions.knowledge.text import query_terms
from core.knowledge.embeddings import Embedder, make_embedder
from core.knowledge.index import sync_index
from actions.knowledge.retrieve import Hit, Retriever
from core.knowledge.store import make_client
from actions.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Which knowledge folders answer which intent; nlu_fallback searches them all.
INTENT_DOMAINS: dict[str, tuple[str, ...]] = {
    "ask_location": ("visiting",),
    "ask_reservation": ("visiting",),
    "ask_tastings": ("visiting", "tastings"),
    "ask_visit_policies": ("visiting",),
    "ask_shipping": ("club",),
    "ask_club": ("club",),
    "ask_loyalty": ("loyalty",),
    "ask_events": ("events",),
    "ask_about": ("about",),
    "ask_wine": ("wine", "wine-guide", "shop"),
}

# What a bare button press (e.g. "/ask_tastings") is asking.
INTENT_DEFAULT_QUESTIONS = {
    "ask_location": "where is the winery and how do I get there",
    "ask_reservation": "how do I make a reservation",
    "ask_tastings": "what tasting experiences and flights do you offer",
    "ask_visit_policies": "children dogs accessibility outside food policies",
    "ask_shipping": "which states do you ship wine to",
    "ask_club": "wine club tiers bottles price discount",
    "ask_loyalty": "how does Milea Miles work earning and redeeming points",
    "ask_events": "weddings and private events",
    "ask_about": "history owners of the winery",
    "ask_wine": "what wines do you make",
}

# "what kinds of tastings ...", "which flights do you have", "what tiers are there": all of a kind
_LISTS = re.compile(r"\b(what|which)\s+(kinds?|sorts?|types?)\s+of\s+(\w+)|\b(what|which)\s+(\w+)\s+(do you|do u|can we|can i|"
                    r"are there|you got|do y'?all)\b", re.I)
LISTED_INTENT = {"tasting": "ask_tastings", "tastings": "ask_tastings", "flight": "ask_tastings",
                 "flights": "ask_tastings", "experiences": "ask_tastings", "tiers": "ask_club", "levels": "ask_club",
                 "memberships": "ask_club", "events": "ask_events", "rooms": "ask_events", "venues": "ask_events",
                 "spaces": "ask_events", "rewards": "ask_loyalty"}


def listing_intent(text: str) -> Optional[str]:
    """The intent whose things a message asks to list, by the noun it asks about."""
    m = _LISTS.search(text or "")
    noun = (m.group(3) or m.group(5) or "").casefold() if m else ""
    return LISTED_INTENT.get(noun)


# The nouns that name each intent's topic as a whole: a message of only these ("tell me about your
# wine club", "what's milea miles?") asks the overview.
TOPIC_NOUNS = {"ask_club": {"club", "wine", "membership", "member"}, "ask_loyalty": {"mile", "loyalty", "point"},
               "ask_tastings": {"tasting", "flight", "experience", "wine"}, "ask_events": {"event", "wedding"},
               "ask_about": {"history", "story", "winery", "estate"}, "ask_visit_policies": {"policy", "rule"}}
_TOPIC_GENERIC = frozenset({"program", "milea", "winery", "vineyard", "like", "work", "info", "information", "detail",
                            "offer", "option", "kind", "type", "sort"})


def overview_question(question: str, intent: Optional[str]) -> str:
    """The intent's overview question when the message names only its topic, so the answer is the
    overview and not one rule that happens to share its words."""
    terms = {t for group in query_terms(question) for t in group}
    nouns = TOPIC_NOUNS.get(intent or "")
    if nouns and terms and terms <= nouns | _TOPIC_GENERIC and terms & nouns or \
            intent and listing_intent(question) == intent:
        return INTENT_DEFAULT_QUESTIONS[intent or ""]
    return question

@dataclass(frozen=True)
class Answer:
    text: str
    found: bool
    mode: str
    sources: tuple[str, ...] = ()
    url: str = ""
    cached: bool = False
    widened: bool = False
    hits: tuple[Hit, ...] = ()


class KnowledgeService:
    def __init__(self, settings: Settings, embedder: Optional[Embedder] = None, client=None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.client = client or make_client(settings)
        self.retriever = Retriever(self.client, self.embedder)
        self.cache: TTLCache[Answer] = TTLCache(settings.answer_cache_ttl_s)
        self.llm = LLMAnswerer(settings) if settings.llm_enabled else None
        self.mode = "llm" if self.llm else "offline"

    def ensure_index(self) -> None:
        """Build the index if it is missing (first start, or a wiped data folder)."""
        if self.retriever.version == "empty":
            log.warning("knowledge index missing: building it now")
            sync_index(self.settings, self.embedder, client=self.client)
            self.retriever.refresh()

    def search(self, question: str, domains: Optional[Sequence[str]], prefer_source: Sequence[str] = (),
               k: int = 3) -> tuple[list[Hit], bool]:
        """Hits above the relevance threshold, or one passage clearly ahead inside the scope; widens to every
        domain when the scope has neither."""
        hits = self._search_parts(question, domains, prefer_source, k)
        if not domains:
            return hits, False
        hits = hits or self._clear_winner(question, domains, prefer_source)
        if hits:
            return hits, False
        widened = self._search_parts(question, None, prefer_source, k)
        return widened, bool(widened)

    def _clear_winner(self, question: str, domains: Sequence[str], prefer_source: Sequence[str]) -> list[Hit]:
        """Inside the domain NLU named, one passage far ahead of the rest, though below the threshold:
        a chatty message ("my partner wants to bring our golden retriever along, can she come in?")
        whose other words no passage holds."""
        ranked = self.retriever.search(question, domains, 2, prefer_source)
        if ranked and ranked[0].score >= CLEAR_FLOOR and (
                len(ranked) == 1 or ranked[0].score >= CLEAR_RATIO * ranked[1].score):
            return ranked[:1]
        return []

    def _search_parts(self, question: str, domains: Optional[Sequence[str]], prefer_source: Sequence[str],
                      k: int) -> list[Hit]:
        """The message, and each question inside a long one, searched: a passage counts by its best
        score. A story that ends in a question ("my sister's birthday is Saturday, 12 of us and the dog,
        can we come?") otherwise drowns its question in words no passage holds."""
        # inside the domain NLU named, a passage needs a little less to count than across all of them
        threshold = self.settings.relevance_threshold - (SCOPED_EASING if domains else 0.0)
        best: dict[str, Hit] = {}
        for part in question_parts(question):
            for hit in self.retriever.search(part, domains, k, prefer_source):
                if hit.score >= threshold and (hit.passage.id not in best or hit.score > best[hit.passage.id].score):
                    best[hit.passage.id] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.passage.id))[:k]

    async def answer(self, question: str, intent: Optional[str] = None, prefer_source: Sequence[str] = (),
                     context: str = "", compose_from_question: bool = False) -> Answer:
        domains = INTENT_DOMAINS.get(intent or "")
        query = f"{question} {context}".strip()
        prefer_source = tuple(prefer_source)
        key = (normalise_question(query), domains, prefer_source, self.retriever.version, self.mode,
               compose_from_question)
        cached = self.cache.get(key)
        if cached is not None:
            return Answer(**{**cached.__dict__, "cached": True})
        hits, widened = await asyncio.to_thread(self.search, query, domains, prefer_source)
        if not hits:
            return Answer("", False, self.mode)
        composed: Optional[Composed] = None
        if self.llm:
            text = await self.llm.compose(question, hits)
            if text:
                composed = Composed(text, "llm", tuple(dict.fromkeys(h.passage.source for h in hits)), hits[0].passage.url)
        if composed is None:
            composed = await asyncio.to_thread(
                compose_offline, question if compose_from_question else query, hits, self.retriever.lexical_index(),
                self.embedder
            )
            if self.llm:
                composed = Composed(composed.text, "offline-fallback", composed.sources, composed.url)
        result = Answer(composed.text, bool(composed.text), composed.mode, composed.sources, composed.url,
                        widened=widened, hits=tuple(hits))
        # Answers drawn from the hours passage depend on today's date: never cached.
        if result.found and composed.mode != "offline-fallback" and not any(h.passage.time_sensitive for h in hits):
            self.cache.put(key, result)
        return result


SCOPED_EASING = 0.05
CLEAR_FLOOR, CLEAR_RATIO = 0.15, 2.0   # a clear winner: this score at least, and this many times the next
LONG_MESSAGE_WORDS = 12   # shorter messages are one question
_PARTS = re.compile(r"[.!?;:]+\s+|\s[-–—]\s|,\s+(?=(?:and |but |so |also |plus )?(?:can|could|do|does|is|are|will|would|what|whats|"
                    r"what's|how|when|where|which|who|any)\b)|\s+(?:and|but|also|plus)\s+(?=(?:can|could|do|does|is|"
                    r"are|will|would|what|how|when|where|which|any)\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The message itself, then (when it is long) each part of it of three words or more."""
    if len(question.split()) <= LONG_MESSAGE_WORDS:
        return [question]
    parts = [p.strip() for p in _PARTS.split(question) if p and len(p.split()) >= 3]
    return [question, *dict.fromkeys(p for p in parts if p != question.strip())]


_service: Optional[KnowledgeService] = None
_service_lock = threading.Lock()


def get_service() -> KnowledgeService:
    global _service
    with _service_lock:
        if _service is None:
            _service = KnowledgeService(get_settings())
            _service.ensure_index()
        return _service
