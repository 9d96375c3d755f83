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


DEMO_C7_APP_ID, DEMO_C7_SECRET, DEMO_C7_TENANT = "demo-app", "demo-secret", "milea-demo"


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
    # Commerce7: a real tenant when C7_APP_ID/C7_SECRET/C7_TENANT are set, else the demo emulator.
    c7_api_url: str = "http://localhost:7070/v1"
    c7_app_id: str = DEMO_C7_APP_ID
    c7_secret: str = DEMO_C7_SECRET
    c7_tenant: str = DEMO_C7_TENANT
    c7_timeout_s: float = 4.0
    c7_pickup_location_id: Optional[str] = None
    # Where members add a card: never in chat.
    store_account_url: str = "https://mileaestatevineyard.com/profile"
    customer_token_secret: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @property
    def c7_is_demo(self) -> bool:
        return self.c7_app_id == DEMO_C7_APP_ID and self.c7_tenant == DEMO_C7_TENANT

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.db"

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
            c7_api_url=_env("C7_API_URL", "https://api.commerce7.com/v1" if _env("C7_APP_ID") else "http://localhost:7070/v1"),
            c7_app_id=_env("C7_APP_ID", DEMO_C7_APP_ID),
            c7_secret=_env("C7_SECRET", DEMO_C7_SECRET),
            c7_tenant=_env("C7_TENANT", DEMO_C7_TENANT),
            c7_timeout_s=_env_float("C7_TIMEOUT_S", 4.0),
            c7_pickup_location_id=_env("C7_PICKUP_LOCATION_ID"),
            store_account_url=_env("STORE_ACCOUNT_URL", "https://mileaestatevineyard.com/profile"),
            customer_token_secret=_env("CUSTOMER_TOKEN_SECRET"),
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
        if self.c7_is_demo:
            lines.append(f"Commerce7: demo emulator at {self.c7_api_url} (set C7_APP_ID/C7_SECRET/C7_TENANT for a real tenant)")
        else:
            lines.append(f"Commerce7: tenant {self.c7_tenant} at {self.c7_api_url}")
        return lines


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
