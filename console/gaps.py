"""Knowledge gaps: what customers asked that the assistant fell back on or answered with a
thumbs down, grouped by meaning with the knowledge base's own embeddings (actions/knowledge),
largest group first. A group is the questions whose vectors lie close to its first member."""
from __future__ import annotations

import threading
import time
from typing import Any, Optional

import numpy as np

from console.db import ConsoleDB

SIMILAR = 0.5  # cosine similarity that puts two questions in one group
MAX_QUESTIONS = 1000
_embedder: Optional[Any] = None
_lock = threading.Lock()


def embedder() -> Any:
    """The knowledge index's embedder (local wordllama by default), loaded once."""
    global _embedder
    with _lock:
        if _embedder is None:
            from core.knowledge.embeddings import make_embedder
            from core.service_settings import ServiceSettings

            _embedder = make_embedder(ServiceSettings.from_env())
        return _embedder


def group(texts: list[str], vectors: np.ndarray, threshold: float = SIMILAR) -> list[list[int]]:
    """Indices grouped greedily: each question joins the first group whose seed it resembles."""
    seeds: list[int] = []
    groups: list[list[int]] = []
    for i in range(len(texts)):
        if seeds:
            scores = vectors[seeds] @ vectors[i]
            best = int(np.argmax(scores))
            if scores[best] >= threshold:
                groups[best].append(i)
                continue
        seeds.append(i)
        groups.append([i])
    return sorted(groups, key=len, reverse=True)


def knowledge_gaps(db: ConsoleDB, days: int = 30, limit: int = 30) -> list[dict]:
    rows = db.all("SELECT sender_id, at, kind, text, answer FROM console_questions WHERE at >= ? "
                  "ORDER BY at DESC LIMIT ?", (time.time() - days * 86400, MAX_QUESTIONS))
    if not rows:
        return []
    texts = [r[3] for r in rows]
    vectors = embedder().embed(texts)
    out = []
    for members in group(texts, vectors)[:limit]:
        kinds = [rows[i][2] for i in members]
        out.append({"question": texts[members[0]], "count": len(members),
                    "fallbacks": kinds.count("fallback"), "thumbs_down": kinds.count("thumbs_down"),
                    "examples": [{"text": texts[i], "conversation": rows[i][0], "kind": rows[i][2],
                                  "answer": rows[i][4] or ""} for i in members[:8]]})
    return out
