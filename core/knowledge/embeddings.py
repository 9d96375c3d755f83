"""Text embeddings: a local model shipped inside a PyPI package (offline), or OpenAI.

The embedder's `id` names the index collection, so switching models never mixes
vectors of different spaces.
"""
from __future__ import annotations

import threading
from typing import Protocol, Sequence

import numpy as np
from numpy.typing import NDArray

from core.service_settings import ServiceSettings


class Embedder(Protocol):
    id: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised float32 vectors, one row per text."""


class LocalEmbedder:
    """wordllama: static token embeddings, weights shipped in the wheel, no download."""

    id = "wordllama-l2supercat-256"

    def __init__(self) -> None:
        import wordllama
        from pathlib import Path

        self._model = wordllama.WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True
        )
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        with self._lock:
            vectors = self._model.embed(list(texts), norm=True)
        return np.asarray(vectors, dtype=np.float32)


class OpenAIEmbedder:
    def __init__(self, settings: ServiceSettings) -> None:
        import openai

        self._client = openai.OpenAI(
            api_key=settings.openai_api_key or "unused",
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=2,
        )
        self._model = settings.openai_embedding_model
        self.id = f"openai-{self._model}"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        response = self._client.embeddings.create(model=self._model, input=list(texts))
        vectors = np.asarray([d.embedding for d in response.data], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: NDArray[np.float32] = vectors / np.maximum(norms, 1e-12)
        return normalised


def make_embedder(settings: ServiceSettings) -> Embedder:
    if settings.embeddings == "openai":
        return OpenAIEmbedder(settings)
    return LocalEmbedder()
