"""Typed settings for the action server, read once from the environment.

They build on the settings it shares with the jobs process (core/service_settings.py: knowledge index,
embeddings, LLM, Commerce7, databases) and core/settings.py.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Optional

from core.database import Database
from core.service_settings import ServiceSettings, env_float, env_or, env_value


@dataclass(frozen=True)
class Settings(ServiceSettings):
    answer_cache_ttl_s: float = 600.0
    relevance_threshold: float = 0.30
    warm_on_start: bool = True
    catalog_ttl_s: float = 60.0  # how long the live catalog is reused before Commerce7 is asked again
    # Where members add a card: never in chat.
    store_account_url: str = "https://mileaestatevineyard.com/profile"
    # Product pages of the online store: this + the Commerce7 slug (Buy buttons and links).
    store_product_url: str = "https://mileaestatevineyard.com/product/"
    customer_token_secret: Optional[str] = None
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

    @classmethod
    def from_env(cls) -> "Settings":
        shared = ServiceSettings.from_env()
        return cls(
            **{f.name: getattr(shared, f.name) for f in fields(ServiceSettings)},
            answer_cache_ttl_s=env_float("ANSWER_CACHE_TTL_S", 600.0),
            relevance_threshold=env_float("KNOWLEDGE_RELEVANCE_THRESHOLD", 0.30),
            warm_on_start=(env_value("MILEA_WARM_ON_START", "1") != "0"),
            catalog_ttl_s=env_float("MILEA_CATALOG_TTL_S", 60.0),
            store_account_url=env_or("STORE_ACCOUNT_URL", "https://mileaestatevineyard.com/profile"),
            store_product_url=env_or("STORE_PRODUCT_URL", "https://mileaestatevineyard.com/product/"),
            customer_token_secret=env_value("CUSTOMER_TOKEN_SECRET"),
            staff_phone=env_value("STAFF_PHONE"),
            staff_email=env_value("STAFF_EMAIL"),
            twilio_account_sid=env_value("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=env_value("TWILIO_AUTH_TOKEN"),
            twilio_number=env_value("TWILIO_NUMBER"),
            twilio_api_base_url=env_value("TWILIO_API_BASE_URL"),
            smtp_host=env_value("SMTP_HOST"),
            smtp_port=int(env_float("SMTP_PORT", 587 if env_value("SMTP_STARTTLS") == "1" else 25)),
            smtp_user=env_value("SMTP_USER"),
            smtp_password=env_value("SMTP_PASSWORD"),
            smtp_from=env_value("SMTP_FROM") or env_value("SMTP_USER"),
            smtp_starttls=(env_value("SMTP_STARTTLS", "0") == "1"),
            handoff_timeout_s=min(env_float("HANDOFF_TIMEOUT_S", 8.0), 9.0),
            handoff_notice_cooldown_s=max(0.0, env_float("HANDOFF_NOTICE_COOLDOWN_S", 900.0)),
            verification_secret_env=env_value("VERIFICATION_SECRET"),
            verification_code_ttl_s=env_float("VERIFICATION_CODE_TTL_S", 600.0),
            verified_ttl_s=env_float("VERIFIED_TTL_S", 1800.0),
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
