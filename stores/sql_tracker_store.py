"""Rasa's SQL tracker store, with connections checked before use.

Rasa 3.6 pools PostgreSQL connections without a liveness check, so after a
database restart every pooled connection fails once, each failing a customer's
message. `pool_pre_ping` tests a connection as it leaves the pool and replaces
a dead one, so the first messages after a restart are answered normally.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class CheckedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
