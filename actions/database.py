"""One small database handle for the action side's own tables (feedback, outbox).

`sqlite:///<path>` by default (a file in the data folder), or `postgresql://...`
in the production profile, where several processes share the tables. SQL is
written once with `?` placeholders and the shared subset of both dialects.
"""
from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator, Union

_POSTGRES = re.compile(r"^postgres(ql)?(\+\w+)?://")


def is_postgres_url(url: str) -> bool:
    return bool(_POSTGRES.match(url or ""))


def redact(url: str) -> str:
    """The URL without its password, for start-up lines and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class Database:
    def __init__(self, url: Union[str, Path]) -> None:
        url = f"sqlite:///{url}" if isinstance(url, Path) else url
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self.path = Path(url[len("sqlite:///"):])
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif is_postgres_url(url):
            self.dialect = "postgresql"
            # SQLAlchemy-style "postgresql+psycopg2://" and "postgres://" are the same for libpq
            self.dsn = _POSTGRES.sub("postgresql://", url)
        else:
            raise ValueError("the database must be sqlite:///<path> or postgresql://...")
        self._wal = False

    @property
    def label(self) -> str:
        if self.dialect == "sqlite":
            return f"SQLite {self.path}"
        return "PostgreSQL " + self.dsn.split("@", 1)[-1].split("?", 1)[0]  # never the password

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        """A connection whose work is one transaction: committed on success, rolled back on error."""
        if self.dialect == "sqlite":
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            try:
                db.execute("PRAGMA busy_timeout = 10000")
                if not self._wal:  # readers never wait for the writer; kept in the file, set once
                    db.execute("PRAGMA journal_mode = WAL")
                    self._wal = True
                db.execute("BEGIN IMMEDIATE")  # a writer from the start: no lock upgrades that deadlock
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                db.close()
        else:
            import psycopg2  # only needed with PostgreSQL

            db = psycopg2.connect(self.dsn, connect_timeout=5)
            try:
                with db:  # commits, or rolls back on error
                    yield db
            finally:
                db.close()

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def _execute(self, db: Any, sql: str, params: tuple = ()) -> Any:
        cursor = db.cursor()
        cursor.execute(self._sql(sql), params)
        return cursor
