"""Typed settings for the action server, read once from the environment (beside core/settings.py).

Every external service has a local default so `make run` works offline:
embedded Chroma, local embeddings, the offline answer path.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from core import paths
from core.database import Database
from core.settings import SharedSettings, feedback_database, outbox_database



def _env(name: str, default: Optional[str] = None) -> Optional[str]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def _env_or(name: str, default: str) -> str:
    return _env(name) or default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


DEMO_C7_APP_ID, DEMO_C7_SECRET, DEMO_C7_TENANT = "demo-app", "demo-secret", "milea-demo"


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = paths.KNOWLEDGE_DIR
    data_dir: Path = paths.DATA_DIR
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
    catalog_ttl_s: float = 60.0  # how long the live catalog is reused before Commerce7 is asked again
    # Where members add a card: never in chat.
    store_account_url: str = "https://mileaestatevineyard.com/profile"
    # Product pages of the online store: this + the Commerce7 slug (Buy buttons and links).
    store_product_url: str = "https://mileaestatevineyard.com/product/"
    customer_token_secret: Optional[str] = None
    extra: dict = field(default_factory=dict)
    # Feedback: the tracker store's database (SQLite file in data_dir) unless
    # FEEDBACK_DB_URL or TRACKER_DB_URL names a postgresql:// database.
    feedback_db_url: Optional[str] = field(default=None, repr=False)  # may hold a password
    outbox_db_url: Optional[str] = field(default=None, repr=False)
    # Hand-off to a person: staff are told by SMS (Twilio) and/or email (SMTP).
    staff_phone: Optional[str] = None
    staff_email: Optional[str] = None
    twilio_account_sid: Optional[str] = None
    twilio_auth_token: Optional[str] = field(default=None, repr=False)
    twilio_number: Optional[str] = None
    twilio_api_base_url: Optional[str] = None
    smtp_host: Optional[str] = None
    smtp_port: int = 25
    smtp_user: Optional[str] = None
    smtp_password: Optional[str] = field(default=None, repr=False)
    smtp_from: Optional[str] = None
    smtp_starttls: bool = False
    handoff_timeout_s: float = 8.0
    handoff_notice_cooldown_s: float = 900.0  # one staff notice per conversation in this time
    # Proof of ownership: one-time codes (actions/verification.py). The secret keys the code
    # hashes and signs the "verified" slot; without VERIFICATION_SECRET one is made once in data_dir.
    verification_secret_env: Optional[str] = field(default=None, repr=False)
    verification_code_ttl_s: float = 600.0
    verified_ttl_s: float = 1800.0

    @property
    def c7_is_demo(self) -> bool:
        return self.c7_app_id == DEMO_C7_APP_ID and self.c7_tenant == DEMO_C7_TENANT

    @property
    def outbox_database(self) -> str:
        """The Commerce7 outbox: OUTBOX_DB_URL, else the shared PostgreSQL database, else a SQLite file."""
        return outbox_database(self.outbox_db_url, self.feedback_db_url, self.data_dir)

    @property
    def verification_database(self) -> str:
        """Where one-time codes live: the outbox's database (shared by replicas in production)."""
        return self.outbox_database

    @property
    def verification_secret(self) -> str:
        """VERIFICATION_SECRET, else a random one kept in data_dir (made once, readable by us only)."""
        if self.verification_secret_env:
            return self.verification_secret_env
        path = self.data_dir / "verification_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
            try:
                os.link(draft, path)  # atomic and exclusive: every process ends up with the same secret
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()

    @property
    def sms_codes_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_number)

    @property
    def email_codes_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

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
        shared = SharedSettings.from_env()
        return cls(
            knowledge_dir=shared.knowledge_dir,
            data_dir=shared.data_dir,
            chroma_url=_env("CHROMA_URL"),
            embeddings=embeddings,
            openai_embedding_model=_env_or("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
            openai_api_key=api_key,
            openai_base_url=base_url,
            openai_model=_env_or("OPENAI_MODEL", "gpt-4o-mini"),
            llm_timeout_s=_env_float("LLM_TIMEOUT_S", 6.0),
            answer_cache_ttl_s=_env_float("ANSWER_CACHE_TTL_S", 600.0),
            relevance_threshold=_env_float("KNOWLEDGE_RELEVANCE_THRESHOLD", 0.30),
            warm_on_start=(_env("MILEA_WARM_ON_START", "1") != "0"),
            c7_api_url=_env_or("C7_API_URL", "https://api.commerce7.com/v1" if _env("C7_APP_ID") else "http://localhost:7070/v1"),
            c7_app_id=_env_or("C7_APP_ID", DEMO_C7_APP_ID),
            c7_secret=_env_or("C7_SECRET", DEMO_C7_SECRET),
            c7_tenant=_env_or("C7_TENANT", DEMO_C7_TENANT),
            c7_timeout_s=_env_float("C7_TIMEOUT_S", 4.0),
            c7_pickup_location_id=_env("C7_PICKUP_LOCATION_ID"),
            catalog_ttl_s=_env_float("MILEA_CATALOG_TTL_S", 60.0),
            store_account_url=_env_or("STORE_ACCOUNT_URL", "https://mileaestatevineyard.com/profile"),
            store_product_url=_env_or("STORE_PRODUCT_URL", "https://mileaestatevineyard.com/product/"),
            customer_token_secret=_env("CUSTOMER_TOKEN_SECRET"),
            feedback_db_url=shared.feedback_db_url or None,
            outbox_db_url=shared.outbox_db_url or None,
            staff_phone=_env("STAFF_PHONE"),
            staff_email=_env("STAFF_EMAIL"),
            twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
            twilio_number=_env("TWILIO_NUMBER"),
            twilio_api_base_url=_env("TWILIO_API_BASE_URL"),
            smtp_host=_env("SMTP_HOST"),
            smtp_port=int(_env_float("SMTP_PORT", 587 if _env("SMTP_STARTTLS") == "1" else 25)),
            smtp_user=_env("SMTP_USER"),
            smtp_password=_env("SMTP_PASSWORD"),
            smtp_from=_env("SMTP_FROM") or _env("SMTP_USER"),
            smtp_starttls=(_env("SMTP_STARTTLS", "0") == "1"),
            handoff_timeout_s=min(_env_float("HANDOFF_TIMEOUT_S", 8.0), 9.0),
            handoff_notice_cooldown_s=max(0.0, _env_float("HANDOFF_NOTICE_COOLDOWN_S", 900.0)),
            verification_secret_env=_env("VERIFICATION_SECRET"),
            verification_code_ttl_s=_env_float("VERIFICATION_CODE_TTL_S", 600.0),
            verified_ttl_s=_env_float("VERIFIED_TTL_S", 1800.0),
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
        lines.append(f"Feedback: {self.feedback_db_label}")
        lines.append(f"Commerce7 outbox: {Database(self.outbox_database).label}"
                     + (" (set TRACKER_DB_URL or OUTBOX_DB_URL for PostgreSQL)" if "sqlite" in self.outbox_database
                        else ""))
        lines.append(self.handoff_description)
        return lines

    # ---- feedback and hand-off
    @property
    def feedback_database(self) -> str:
        """The feedback table's database URL: explicit, or the tracker store's SQLite file."""
        return feedback_database(self.feedback_db_url, self.data_dir)

    @property
    def feedback_db_label(self) -> str:
        url = self.feedback_database
        if url.startswith("sqlite:"):
            return f"SQLite {url.split(':///', 1)[-1]} (table feedback; set FEEDBACK_DB_URL for PostgreSQL)"
        host = url.split("@", 1)[-1].split("?", 1)[0]  # never the password
        return f"PostgreSQL {host} (table feedback)"

    @property
    def handoff_sms_enabled(self) -> bool:
        return bool(self.staff_phone and self.twilio_account_sid and self.twilio_auth_token and self.twilio_number)

    @property
    def handoff_email_enabled(self) -> bool:
        return bool(self.staff_email and self.smtp_host and self.smtp_from)

    @property
    def handoff_description(self) -> str:
        on = []
        if self.handoff_sms_enabled:
            digits = "".join(c for c in self.staff_phone or "" if c.isdigit())
            on.append(f"SMS to ***{digits[-4:]} via Twilio" + (" (custom API URL)" if self.twilio_api_base_url else ""))
        if self.handoff_email_enabled:
            tls = ", STARTTLS" if self.smtp_starttls else ""
            on.append(f"email via {self.smtp_host}:{self.smtp_port}{tls}")
        if not on:
            return ("Hand-off: no staff notification (set STAFF_PHONE with TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN/"
                    "TWILIO_NUMBER, and/or STAFF_EMAIL with SMTP_HOST/SMTP_FROM); customers get the phone and email")
        return "Hand-off: staff notified by " + " and ".join(on)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
