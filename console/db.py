"""The console's handle on the tracker store's database (SQLite file or PostgreSQL).

Rasa's `events` table is only read; the console's own tables (prefixed `console_`) live
beside it so that one query can join them. SQL is written once with `?` placeholders.
Reads never take SQLite's writer lock (Rasa writes there on every turn); writes do.
"""
from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

_POSTGRES = re.compile(r"^postgres(ql)?(\+\w+)?://")


class ConsoleDB:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self.path = Path(url[len("sqlite:///"):])
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._local = threading.local()
        elif _POSTGRES.match(url):
            import psycopg2.pool

            self.dialect = "postgresql"
            self._pool = psycopg2.pool.ThreadedConnectionPool(1, 8, _POSTGRES.sub("postgresql://", url),
                                                              connect_timeout=5)
        else:
            raise ValueError("the console database must be sqlite:///<path> or postgresql://...")

    @property
    def label(self) -> str:
        return f"SQLite {self.path}" if self.dialect == "sqlite" else "PostgreSQL " + \
            self.url.split("@", 1)[-1].split("?", 1)[0]

    def sql(self, text: str) -> str:
        return text if self.dialect == "sqlite" else text.replace("?", "%s")

    @contextlib.contextmanager
    def _connection(self, write: bool) -> Iterator[Any]:
        if self.dialect == "sqlite":
            db = getattr(self._local, "db", None)
            if db is None:  # one connection per thread, kept: opening the file costs more than the query
                db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=True)
                db.execute("PRAGMA busy_timeout = 10000")
                self._local.db = db
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        else:
            db = self._pool.getconn()
            broken = False
            try:
                with db:  # one transaction: commit, or roll back on error
                    yield db
            except Exception as exc:
                import psycopg2

                broken = isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))
                raise
            finally:
                self._pool.putconn(db, close=broken or db.closed)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Tx"]:
        with self._connection(write=True) as db:
            yield Tx(self, db)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connection(write=False) as db:
            cursor = db.cursor()
            cursor.execute(self.sql(sql), tuple(params))
            return cursor.fetchall()

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

    def close(self) -> None:
        if self.dialect == "postgresql":
            self._pool.closeall()


class Tx:
    """Statements inside one write transaction."""

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
