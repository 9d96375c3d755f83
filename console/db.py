"""The console's handle on the tracker store's database (SQLite file or PostgreSQL).

Rasa's `events` table is only read; the console's own tables (prefixed `console_`) live
beside it so that one query can join them. SQL is written once with `?` placeholders.
Connections, transactions, SQLite's write lock and its bounded retry are core.database's,
the same as every other process on this file: reads never take the writer lock (Rasa writes
there on every turn); writes take it up front.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Sequence

from core.database import Database

POOL = 8  # PostgreSQL connections kept open for the console's worker threads


class ConsoleDB(Database):
    def __init__(self, url: str) -> None:
        super().__init__(url, pool=POOL)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Tx"]:
        with self.connection(write=True) as db:
            yield Tx(self, db)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.connection(write=False) as db:
            return Tx(self, db).all(sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Optional[tuple]:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement; returns the number of rows it changed."""
        with self.transaction() as tx:
            return tx.run(sql, params)

    def table_exists(self, name: str) -> bool:
        if self.dialect == "sqlite":
            return self.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) is not None
        return self.one("SELECT to_regclass(?)", (name,))[0] is not None


class Tx:
    """Statements inside one transaction."""

    def __init__(self, owner: ConsoleDB, db: Any) -> None:
        self.owner, self.db = owner, db

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self.db.cursor()
        cursor.execute(self.owner.sql(sql), tuple(params))
        return cursor.rowcount

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        cursor = self.db.cursor()
        cursor.execute(self.owner.sql(sql), tuple(params))
        return cursor.fetchall()
