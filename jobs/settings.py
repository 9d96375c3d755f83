"""The jobs process's own settings, from the environment (beside core/settings.py)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional


@dataclass(frozen=True)
class JobsSettings:
    port: int  # JOBS_PORT: /health and /metrics (0: not served, as under `make run`)
    host: str  # JOBS_HOST: loopback unless a scraper in another container needs 0.0.0.0
    outbox_every_s: float  # MILEA_OUTBOX_EVERY_S: how often the Commerce7 outbox is delivered

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "JobsSettings":
        env = os.environ if env is None else env
        return cls(port=int(env.get("JOBS_PORT") or 0), host=env.get("JOBS_HOST") or "127.0.0.1",
                   outbox_every_s=float(env.get("MILEA_OUTBOX_EVERY_S") or 30.0))
