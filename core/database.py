"""One small database handle for the project's own tables (feedback, outbox, SMS state).

`sqlite:///<path>` by default (a file in the data folder), or `postgresql://...`
in the production profile, where several processes share the tables. SQL is
written once with `?` placeholders and the shared subset of both dialects.

SQLite rules (the file is shared with Rasa's tracker store and other processes):
- a write transaction takes the write lock up front (BEGIN IMMEDIATE), so it waits
  for other writers through the busy timeout instead of failing at once when a
  reader tries to become a writer (SQLite returns SQLITE_BUSY without waiting then,
  because waiting could deadlock);
- the journal mode (WAL: readers never wait for the writer) is set once, when the file
  is first prepared, never on every connection: switching it needs the file alone;
- the only retry is where SQLite documents that the busy handler is not used (WAL
  recovery, a closing last connection, the journal-mode switch): a BEGIN that failed
  before the busy timeout ran out is tried again, for a bounded time. Nothing ran yet
  in that transaction, so the retry cannot double anything;
- each thread keeps its connection open: a connection per transaction makes the last one
  to close checkpoint the WAL under an exclusive lock, stalling every other writer
  (measured: about 10x more rows per second under 8 writers).
The schema itself is created by core.migrations, once, before the servers start.
"""
from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, ContextManager, Iterator, Union

_POSTGRES = re.compile(r"^postgres(ql)?(\+\w+)?://")
BUSY_TIMEOUT_S = 15.0  # how long a writer waits for another writer's transaction
RETRY_FOR_S = 10.0  # bounded retries of a BEGIN that SQLite refused without waiting

_prepared: set[str] = set()
_prepare_lock = threading.Lock()


def is_postgres_url(url: str) -> bool:
    return bool(_POSTGRES.match(url or ""))


def redact(url: str) -> str:
    """The URL without its password, for start-up lines and logs."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def is_locked(exc: BaseException) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED as the sqlite3 module reports them."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _begin(db: sqlite3.Connection, statement: str) -> None:
    """BEGIN, tried again only while SQLite refuses it faster than the busy timeout (it did not wait)."""
    deadline, delay = time.monotonic() + RETRY_FOR_S, 0.005
    while True:
        started = time.monotonic()
        try:
            db.execute(statement)
            return
        except sqlite3.OperationalError as exc:
            waited = time.monotonic() - started
            if not is_locked(exc) or waited >= BUSY_TIMEOUT_S * 0.9 or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def prepare_sqlite(path: Path) -> None:
    """Create the file in WAL mode once per process (kept in the file; later opens only check it)."""
    key = str(Path(path).resolve())
    with _prepare_lock:
        if key in _prepared:
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            deadline = time.monotonic() + RETRY_FOR_S
            while True:
                try:
                    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
                    if mode != "wal":
                        # Needs the file alone and does not wait for others: retried, bounded.
                        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if mode == "wal":
                        break
                except sqlite3.OperationalError as exc:
                    if not is_locked(exc) or time.monotonic() > deadline:
                        raise
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError(f"could not switch {path} to WAL (journal mode {mode})")
                time.sleep(0.05)
        finally:
            db.close()
        _prepared.add(key)


_threads = threading.local()


def _thread_connection(path: Path) -> sqlite3.Connection:
    """This thread's open connection to the file, kept: opening and closing one per transaction
    makes the last one out checkpoint the WAL under an exclusive lock, which stalls the others.
    A file deleted or replaced since (same path, another inode) gets a new connection."""
    connections = _threads.__dict__.setdefault("sqlite", {})
    key = str(path)
    try:
        inode = os.stat(path).st_ino
    except OSError:
        inode = None
    cached = connections.get(key)
    if cached is not None and cached[1] == inode and inode is not None:
        if cached[0].in_transaction:  # left open by an interrupted transaction (never expected)
            cached[0].execute("ROLLBACK")
        reused: sqlite3.Connection = cached[0]
        return reused
    if cached is not None:
        cached[0].close()
        with _prepare_lock:
            _prepared.discard(str(Path(path).resolve()))
    prepare_sqlite(path)
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connections[key] = (db, os.stat(path).st_ino)
    return db


class Database:
    """Args: url: sqlite:///<path> (or a Path) or postgresql://...; pool: PostgreSQL only, keep up to
    this many connections open for the threads of a long-running process (0: one per transaction)."""

    def __init__(self, url: Union[str, Path], pool: int = 0) -> None:
        url = f"sqlite:///{url}" if isinstance(url, Path) else url
        self.url = url
        self._pool: Any = None
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self.path = Path(url[len("sqlite:///"):])
            prepare_sqlite(self.path)
        elif is_postgres_url(url):
            self.dialect = "postgresql"
            # SQLAlchemy-style "postgresql+psycopg2://" and "postgres://" are the same for libpq
            self.dsn = _POSTGRES.sub("postgresql://", url)
            if pool:
                import psycopg2.pool

                self._pool = psycopg2.pool.ThreadedConnectionPool(1, pool, self.dsn, connect_timeout=5)
        else:
            raise ValueError("the database must be sqlite:///<path> or postgresql://...")

    @property
    def label(self) -> str:
        if self.dialect == "sqlite":
            return f"SQLite {self.path}"
        return "PostgreSQL " + self.dsn.split("@", 1)[-1].split("?", 1)[0]  # never the password

    def connection(self, write: bool = True) -> ContextManager[Any]:
        """A DB-API connection whose work is one transaction, committed on success and rolled back
        on error, under the rules above (SQLite: write lock up front, the bounded BEGIN retry).

        Args:
            write: the transaction writes (SQLite: takes the write lock at BEGIN); False for
                reads, which in WAL mode never wait.
        """
        return self._connect(write)

    @contextlib.contextmanager
    def _connect(self, write: bool = True) -> Iterator[Any]:
        if self.dialect == "sqlite":
            db = _thread_connection(self.path)
            _begin(db, "BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        elif self._pool is not None:
            import psycopg2

            db, broken = self._pool.getconn(), False
            try:
                with db:  # commits, or rolls back on error
                    yield db
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                broken = True  # the server went away: never hand this connection out again
                raise
            finally:
                self._pool.putconn(db, close=broken or bool(db.closed))
        else:
            import psycopg2  # only needed with PostgreSQL

            db = psycopg2.connect(self.dsn, connect_timeout=5)
            try:
                with db:  # commits, or rolls back on error
                    yield db
            finally:
                db.close()

    def sql(self, sql: str) -> str:
        """`sql` written with ? placeholders, in this database's paramstyle."""
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def close(self) -> None:
        """Closes the PostgreSQL pool (SQLite connections stay with their threads)."""
        if self._pool is not None:
            self._pool.closeall()

    def execute(self, db: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """`sql` (? placeholders) run on a connection from connection(); returns the cursor."""
        cursor = db.cursor()
        cursor.execute(self.sql(sql), params)
        return cursor
