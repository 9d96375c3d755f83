"""Bring the project's tables up to date in every configured database, once, before any server starts.

`make run` and `make cluster` call `migrate()` before they start Rasa or the action servers, so
replicas never race to create tables; `python -m scripts.migrate` does the same by hand (e.g.
before `docker compose up`). Which databases: the feedback database (the tracker store's SQLite
file, or PostgreSQL), the Commerce7 outbox's and the SMS channel's; one PostgreSQL database when
TRACKER_DB_URL names one.
"""
from __future__ import annotations

import sys
from typing import Callable, Dict, List, Optional

from core.service_settings import ServiceSettings
from channels.sms_store import sms_database
from core import migrations


def databases(settings: Optional[ServiceSettings] = None) -> List[str]:
    """The distinct database URLs holding the project's tables."""
    settings = settings or ServiceSettings.from_env()
    return list(dict.fromkeys([settings.feedback_database, settings.outbox_database,
                               sms_database(settings.data_dir)]))


def migrate(say: Callable[[str], None] = print, settings: Optional[ServiceSettings] = None) -> Dict[str, List[int]]:
    """Upgrade every configured database to the latest schema; returns the versions applied per URL."""
    return migrations.upgrade_all(databases(settings), say)


def main() -> int:
    applied = migrate()
    if not any(applied.values()):
        print(f"schema: every database already at version {migrations.LATEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
