"""Hybrid retrieval: Chroma dense search plus lexical coverage, scoped by domain.

The scored passages carry a combined relevance in [0, 1]; the caller compares it
with one threshold to decide whether the knowledge base knows the answer.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from core.knowledge.embeddings import Embedder
from core.knowledge.index import read_version
from core.knowledge.store import get_collection
from actions.knowledge.text import LexicalIndex, query_terms

log = logging.getLogger(__name__)

DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
DENSE_CANDIDATES = 24
VERSION_CHECK_S = 2.0


@dataclass(frozen=True)
class Passage:
    id: str
    domain: str
    source: str
    title: str
    heading: str
    text: str
    url: str
    time_sensitive: bool


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    dense: float
    lexical: float


class _Snapshot:
    """Everything in the index, held in memory for lexical scoring."""

    def __init__(self, version: Optional[str], ids, documents, metadatas, embeddings) -> None:
        self.version = version
        self.passages = []
        for cid, doc, meta in zip(ids, documents, metadatas):
            meta = meta or {}
            body = doc.split("\n", 1)[1] if "\n" in doc else doc
            self.passages.append(Passage(
                cid, meta.get("domain", ""), meta.get("source", ""), meta.get("title", ""),
                meta.get("heading", ""), body, meta.get("url", ""), bool(meta.get("time_sensitive")),
            ))
        self.position = {p.id: i for i, p in enumerate(self.passages)}
        self.embeddings = np.asarray(embeddings, dtype=np.float32) if len(ids) else np.zeros((0, 1), np.float32)
        self.lexical = LexicalIndex(documents)


class Retriever:
    def __init__(self, client, embedder: Embedder) -> None:
        self._client = client
        self._embedder = embedder
        self._lock = threading.Lock()
        self._snapshot: Optional[_Snapshot] = None
        self._checked_at = 0.0

    @property
    def version(self) -> str:
        return self._current().version or "empty"

    def refresh(self) -> None:
        """Look at the stored index version on the next search (after a re-index)."""
        with self._lock:
            self._checked_at = 0.0

    def _current(self) -> _Snapshot:
        now = time.monotonic()
        with self._lock:
            if self._snapshot is not None and now - self._checked_at < VERSION_CHECK_S:
                return self._snapshot
            self._checked_at = now
            version = read_version(self._client, self._embedder.id)
            if self._snapshot is None or version != self._snapshot.version:
                collection = get_collection(self._client, self._embedder.id)
                got = collection.get(include=["documents", "metadatas", "embeddings"])
                self._snapshot = _Snapshot(version, got["ids"], got["documents"], got["metadatas"], got["embeddings"])
                self._collection = collection
                log.info("knowledge index %s loaded: %d passages", version, len(got["ids"]))
            return self._snapshot

    def search(
        self,
        question: str,
        domains: Optional[Sequence[str]] = None,
        k: int = 3,
        prefer_source: Sequence[str] = (),
    ) -> list[Hit]:
        snap = self._current()
        scope = [i for i, p in enumerate(snap.passages) if not domains or p.domain in domains]
        if not scope or not question.strip():
            return []
        qvec = self._embedder.embed([question])[0]
        dense = {}
        where = {"domain": {"$in": list(domains)}} if domains else None
        result = self._collection.query(
            query_embeddings=[qvec.tolist()],
            n_results=min(DENSE_CANDIDATES, len(scope)),
            where=where,
            include=["distances"],
        )
        for cid, dist in zip(result["ids"][0], result["distances"][0]):
            dense[cid] = max(0.0, 1.0 - float(dist))
        terms = snap.lexical.correct(query_terms(question))
        lexical = {snap.passages[i].id: snap.lexical.score(terms, i) for i in scope}
        candidates = set(dense) | {cid for cid, s in lexical.items() if s > 0}
        hits = []
        for cid in candidates:
            if cid not in snap.position:
                continue
            i = snap.position[cid]
            d = dense.get(cid)
            if d is None:
                d = max(0.0, float(snap.embeddings[i] @ qvec))
            lex = lexical.get(cid, 0.0)
            score = DENSE_WEIGHT * d + LEXICAL_WEIGHT * lex
            if snap.passages[i].source in prefer_source:
                score = min(1.0, score + 0.15)
            hits.append(Hit(snap.passages[i], score, d, lex))
        hits.sort(key=lambda h: (-h.score, h.passage.id))
        return hits[:k]

    def lexical_index(self) -> LexicalIndex:
        return self._current().lexical
