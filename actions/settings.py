"""Typed settings for the action server, read once from the environment.

Every external service has a local default so `make run` works offline:
embedded Chroma, local embeddings, the offline answer path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: Optional[str] = None) -> Optional[str]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = REPO_ROOT / "knowledge"
    data_dir: Path = REPO_ROOT / ".data"
    # Knowledge index: embedded Chroma under data_dir unless CHROMA_URL names a server.
    chroma_url: Optional[str] = None
    # Embeddings: "local" (wordllama, offline) or "openai".
    embeddings: str = "local"
    openai_embedding_model: str = "text-embedding-3-small"
    # Answer phrasing: an OpenAI-compatible server when a key or base URL is set.
    openai_api_key: Optional[str] = None
    openai_base_url: Optional[str] = None
    openai_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 6.0
    answer_cache_ttl_s: float = 600.0
    relevance_threshold: float = 0.30
    warm_on_start: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @classmethod
    def from_env(cls) -> "Settings":
        api_key = _env("OPENAI_API_KEY")
        base_url = _env("OPENAI_BASE_URL")
        # Real OpenAI (a key, no custom server) also embeds; any other
        # OpenAI-compatible server only phrases answers unless asked to embed.
        default_embeddings = "openai" if api_key and not base_url else "local"
        embeddings = (_env("EMBEDDINGS", default_embeddings) or "local").lower()
        if embeddings not in {"local", "openai"}:
            raise ValueError(f"EMBEDDINGS must be 'local' or 'openai', got {embeddings!r}")
        return cls(
            knowledge_dir=Path(_env("KNOWLEDGE_DIR", str(REPO_ROOT / "knowledge"))),
            data_dir=Path(_env("MILEA_DATA_DIR", str(REPO_ROOT / ".data"))),
            chroma_url=_env("CHROMA_URL"),
            embeddings=embeddings,
            openai_embedding_model=_env("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
            openai_api_key=api_key,
            openai_base_url=base_url,
            openai_model=_env("OPENAI_MODEL", "gpt-4o-mini"),
            llm_timeout_s=_env_float("LLM_TIMEOUT_S", 6.0),
            answer_cache_ttl_s=_env_float("ANSWER_CACHE_TTL_S", 600.0),
            relevance_threshold=_env_float("KNOWLEDGE_RELEVANCE_THRESHOLD", 0.30),
            warm_on_start=(_env("MILEA_WARM_ON_START", "1") != "0"),
        )

    def describe(self) -> list[str]:
        """One start-up line per service, saying which mode is active and how to switch."""
        lines = []
        if self.chroma_url:
            lines.append(f"Knowledge index: Chroma server at {self.chroma_url}")
        else:
            lines.append(
                f"Knowledge index: embedded Chroma in {self.chroma_path} (set CHROMA_URL for a Chroma server)"
            )
        if self.embeddings == "openai":
            lines.append(f"Embeddings: OpenAI {self.openai_embedding_model}")
        else:
            lines.append("Embeddings: local wordllama model (set OPENAI_API_KEY for OpenAI embeddings)")
        if self.llm_enabled:
            where = self.openai_base_url or "api.openai.com"
            lines.append(f"Answers: LLM {self.openai_model} at {where}, offline fallback on any error")
        else:
            lines.append(
                "Answers: offline extractive path (set OPENAI_API_KEY or OPENAI_BASE_URL to phrase with an LLM)"
            )
        return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
