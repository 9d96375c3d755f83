"""Settings of the services the action server and the jobs process both use, read from the environment:
the knowledge index and its embeddings, the LLM, Commerce7 and the databases (beside core/settings.py).

Every external service has a local default so `make run` works offline:
embedded Chroma, local embeddings, the offline answer path, the demo Commerce7 emulator.
The action server's own settings build on these (actions/settings.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from core import paths
from core.settings import SharedSettings, feedback_database, outbox_database


def env_value(name: str, default: Optional[str] = None) -> Optional[str]:
    """The variable's value without surrounding spaces; `default` when unset or blank."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def env_or(name: str, default: str) -> str:
    return env_value(name) or default


def env_float(name: str, default: float) -> float:
    raw = env_value(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


DEMO_C7_APP_ID, DEMO_C7_SECRET, DEMO_C7_TENANT = "demo-app", "demo-secret", "milea-demo"


@dataclass(frozen=True)
class ServiceSettings:
    knowledge_dir: Path = paths.KNOWLEDGE_DIR
    data_dir: Path = paths.DATA_DIR
    # Knowledge index: embedded Chroma under data_dir unless CHROMA_URL names a server, which is then
    # sent CHROMA_TOKEN (the compose file's Chroma gate lets nothing through without it).
    chroma_url: Optional[str] = None
    chroma_token: Optional[str] = field(default=None, repr=False)
    # Embeddings: "local" (wordllama, offline) or "openai".
    embeddings: str = "local"
    openai_embedding_model: str = "text-embedding-3-small"
    # Answer phrasing: an OpenAI-compatible server when a key or base URL is set.
    openai_api_key: Optional[str] = None
    openai_base_url: Optional[str] = None
    openai_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 6.0
    # Commerce7: a real tenant when C7_APP_ID/C7_SECRET/C7_TENANT are set, else the demo emulator.
    c7_api_url: str = "http://localhost:7070/v1"
    c7_app_id: str = DEMO_C7_APP_ID
    c7_secret: str = DEMO_C7_SECRET
    c7_tenant: str = DEMO_C7_TENANT
    c7_timeout_s: float = 4.0
    c7_pickup_location_id: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Feedback: the tracker store's database (SQLite file in data_dir) unless
    # FEEDBACK_DB_URL or TRACKER_DB_URL names a postgresql:// database.
    feedback_db_url: Optional[str] = field(default=None, repr=False)  # may hold a password
    outbox_db_url: Optional[str] = field(default=None, repr=False)

    @property
    def c7_is_demo(self) -> bool:
        return self.c7_app_id == DEMO_C7_APP_ID and self.c7_tenant == DEMO_C7_TENANT

    @property
    def outbox_database(self) -> str:
        """The Commerce7 outbox: OUTBOX_DB_URL, else the shared PostgreSQL database, else a SQLite file."""
        return outbox_database(self.outbox_db_url, self.feedback_db_url, self.data_dir)

    @property
    def feedback_database(self) -> str:
        """The feedback table's database URL: explicit, or the tracker store's SQLite file."""
        return feedback_database(self.feedback_db_url, self.data_dir)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @classmethod
    def from_env(cls) -> "ServiceSettings":
        api_key = env_value("OPENAI_API_KEY")
        base_url = env_value("OPENAI_BASE_URL")
        # Real OpenAI (a key, no custom server) also embeds; any other
        # OpenAI-compatible server only phrases answers unless asked to embed.
        default_embeddings = "openai" if api_key and not base_url else "local"
        embeddings = (env_value("EMBEDDINGS", default_embeddings) or "local").lower()
        if embeddings not in {"local", "openai"}:
            raise ValueError(f"EMBEDDINGS must be 'local' or 'openai', got {embeddings!r}")
        shared = SharedSettings.from_env()
        return cls(
            knowledge_dir=shared.knowledge_dir,
            data_dir=shared.data_dir,
            chroma_url=env_value("CHROMA_URL"),
            chroma_token=env_value("CHROMA_TOKEN"),
            embeddings=embeddings,
            openai_embedding_model=env_or("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
            openai_api_key=api_key,
            openai_base_url=base_url,
            openai_model=env_or("OPENAI_MODEL", "gpt-4o-mini"),
            llm_timeout_s=env_float("LLM_TIMEOUT_S", 6.0),
            c7_api_url=env_or("C7_API_URL", "https://api.commerce7.com/v1" if env_value("C7_APP_ID")
                              else "http://localhost:7070/v1"),
            c7_app_id=env_or("C7_APP_ID", DEMO_C7_APP_ID),
            c7_secret=env_or("C7_SECRET", DEMO_C7_SECRET),
            c7_tenant=env_or("C7_TENANT", DEMO_C7_TENANT),
            c7_timeout_s=env_float("C7_TIMEOUT_S", 4.0),
            c7_pickup_location_id=env_value("C7_PICKUP_LOCATION_ID"),
            feedback_db_url=shared.feedback_db_url or None,
            outbox_db_url=shared.outbox_db_url or None,
        )
