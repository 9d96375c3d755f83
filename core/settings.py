"""The settings every process reads (Rasa server, action server, console, jobs), from the environment.

Each process's own settings build on these: actions/settings.py, console/settings.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from core import paths
from core.database import is_postgres_url


def _text(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


@dataclass(frozen=True)
class SharedSettings:
    data_dir: Path  # MILEA_DATA_DIR: SQLite files, the embedded knowledge index, generated secrets
    knowledge_dir: Path  # KNOWLEDGE_DIR: markdown and structured YAML
    tracker_db_url: str  # TRACKER_DB_URL ("" for the SQLite file in data_dir)
    feedback_db_url: str  # FEEDBACK_DB_URL, else TRACKER_DB_URL ("" for the tracker's SQLite file)
    outbox_db_url: str  # OUTBOX_DB_URL ("" for the feedback's PostgreSQL database, else a SQLite file)
    sms_db_url: str  # SMS_DB_URL ("" for the tracker's PostgreSQL database, else a SQLite file)
    redis_url: str  # REDIS_URL ("": no Redis)
    rabbitmq_url: str  # RABBITMQ_URL ("": no event broker)
    rabbitmq_queue: str  # RABBITMQ_QUEUE
    action_server_url: str  # ACTION_SERVER_URL ("" when this process does not call one)
    phone_region: str  # PHONE_REGION: where a number written without a country code is read ("" for US)
    sms_allowed_countries: str  # SMS_ALLOWED_COUNTRIES: ISO regions whose numbers get SMS ("" for US, CA)
    console_url: str  # CONSOLE_URL: the staff console as staff reach it ("" without one)
    pinned_now: str  # MILEA_NOW: a fixed clock (ISO 8601 with offset) for demos and end-to-end tests
    outbox_backoff_s: float  # MILEA_OUTBOX_BACKOFF_S: the first retry of a Commerce7 write, doubled each time
    service: str  # MILEA_SERVICE ("" unset): which process a log line or report comes from
    hostname: str  # HOSTNAME as the container sets it ("" unset)
    log_json: bool  # LOG_FORMAT=json
    show_all_warnings: bool  # MILEA_WARNINGS=all: third-party deprecation warnings too (core/quiet.py)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "SharedSettings":
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(_text(env, "MILEA_DATA_DIR") or paths.DATA_DIR),
            knowledge_dir=Path(_text(env, "KNOWLEDGE_DIR") or paths.KNOWLEDGE_DIR),
            tracker_db_url=_text(env, "TRACKER_DB_URL").replace("postgres://", "postgresql://", 1),
            feedback_db_url=_text(env, "FEEDBACK_DB_URL") or _text(env, "TRACKER_DB_URL"),
            outbox_db_url=_text(env, "OUTBOX_DB_URL"),
            sms_db_url=_text(env, "SMS_DB_URL"),
            redis_url=_text(env, "REDIS_URL"),
            rabbitmq_url=_text(env, "RABBITMQ_URL"),
            rabbitmq_queue=_text(env, "RABBITMQ_QUEUE") or "milea_events",
            action_server_url=_text(env, "ACTION_SERVER_URL"),
            phone_region=_text(env, "PHONE_REGION").upper(),
            sms_allowed_countries=_text(env, "SMS_ALLOWED_COUNTRIES"),
            console_url=_text(env, "CONSOLE_URL").rstrip("/"),
            pinned_now=_text(env, "MILEA_NOW"),
            outbox_backoff_s=float(_text(env, "MILEA_OUTBOX_BACKOFF_S") or 15.0),
            service=_text(env, "MILEA_SERVICE"),
            hostname=_text(env, "HOSTNAME"),
            log_json=_text(env, "LOG_FORMAT").lower() == "json",
            show_all_warnings=_text(env, "MILEA_WARNINGS").lower() == "all",
        )

    @property
    def tracker_database(self) -> str:
        """The tracker store's database: TRACKER_DB_URL when it is PostgreSQL, else data_dir/tracker.db."""
        if is_postgres_url(self.tracker_db_url):
            return self.tracker_db_url
        return f"sqlite:///{self.data_dir / 'tracker.db'}"

    @property
    def feedback_database(self) -> str:
        return feedback_database(self.feedback_db_url, self.data_dir)

    @property
    def outbox_database(self) -> str:
        return outbox_database(self.outbox_db_url, self.feedback_db_url, self.data_dir)

    @property
    def sms_database(self) -> str:
        """SMS_DB_URL, else the tracker store's PostgreSQL database, else data_dir/sms.db."""
        if self.sms_db_url:
            return self.sms_db_url
        if is_postgres_url(self.tracker_db_url):
            return self.tracker_db_url
        return f"sqlite:///{self.data_dir / 'sms.db'}"


@dataclass(frozen=True)
class RasaServerSettings:
    """What the Rasa server's own code (channels/, stores/) reads beside the shared settings."""

    tracker_cache_conversations: int  # TRACKER_CACHE_CONVERSATIONS: trackers kept in the process (0: off)
    ticket_lease_s: float  # TICKET_LEASE_S: how long a replica's lock ticket lives unless renewed
    staff_channel_remote: bool  # STAFF_CHANNEL_REMOTE: staff replies accepted from other hosts

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "RasaServerSettings":
        env = os.environ if env is None else env
        return cls(
            tracker_cache_conversations=int(_text(env, "TRACKER_CACHE_CONVERSATIONS") or 256),
            ticket_lease_s=float(_text(env, "TICKET_LEASE_S") or 5.0),
            staff_channel_remote=_text(env, "STAFF_CHANNEL_REMOTE").lower() in ("1", "true", "yes"),
        )


def feedback_database(feedback_db_url: Optional[str], data_dir: Path) -> str:
    """The feedback table's database: FEEDBACK_DB_URL or TRACKER_DB_URL, else the tracker store's SQLite file."""
    return feedback_db_url or f"sqlite:///{data_dir / 'tracker.db'}"


def outbox_database(outbox_db_url: Optional[str], feedback_db_url: Optional[str], data_dir: Path) -> str:
    """The Commerce7 outbox: OUTBOX_DB_URL, else the shared PostgreSQL database, else a SQLite file."""
    if outbox_db_url:
        return outbox_db_url
    if feedback_db_url and is_postgres_url(feedback_db_url):
        return feedback_db_url
    return f"sqlite:///{data_dir / 'outbox.db'}"


def shared_settings() -> SharedSettings:
    """Read now (tests and the supervisor change the environment between calls)."""
    return SharedSettings.from_env()
