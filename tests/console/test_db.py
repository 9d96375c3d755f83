"""console/db.py on both databases it runs on: statements, one transaction that commits or rolls
back as a whole, and (PostgreSQL) a pooled connection the server dropped is never handed out
again. Connections and transactions are core.database's; the SQLite file shared with every
other writer: tests/unit/test_sqlite_stress.py."""
from __future__ import annotations

import psycopg2
import pytest

from console.db import ConsoleDB
from tests.production.services import POSTGRES_URL, scratch_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    with scratch_database("milea_console") as url:
        yield url


def test_statements_and_whole_transactions(url):
    db = ConsoleDB(url)
    try:
        db.run("CREATE TABLE console_probe (id TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        assert db.table_exists("console_probe") and not db.table_exists("console_nothing")
        with db.transaction() as tx:
            assert tx.run("INSERT INTO console_probe (id, n) VALUES (?, ?)", ("a", 1)) == 1
            tx.run("INSERT INTO console_probe (id, n) VALUES (?, ?)", ("b", 2))
        with pytest.raises(Exception):  # the second insert breaks the key: the first goes with it
            with db.transaction() as tx:
                tx.run("UPDATE console_probe SET n = n + 10 WHERE id = ?", ("a",))
                tx.run("INSERT INTO console_probe (id, n) VALUES (?, ?)", ("b", 3))
        other = ConsoleDB(url)  # another handle (another process, as far as the data goes) sees the same
        assert other.all("SELECT id, n FROM console_probe ORDER BY id") == [("a", 1), ("b", 2)]
        assert other.one("SELECT n FROM console_probe WHERE id = ?", ("z",)) is None
        assert db.run("DELETE FROM console_probe WHERE n > ?", (1,)) == 1
        other.close()
    finally:
        db.close()


def test_a_connection_postgresql_dropped_is_not_handed_out_again():
    with scratch_database("milea_console") as url:
        db = ConsoleDB(url)
        try:
            assert db.one("SELECT 1") == (1,)
            admin = psycopg2.connect(POSTGRES_URL, connect_timeout=5)
            admin.autocommit = True
            with admin.cursor() as cursor:  # as a PostgreSQL restart does to every open connection
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                               (url.rsplit("/", 1)[1],))
            admin.close()
            with pytest.raises(psycopg2.Error):
                db.one("SELECT 1")  # the statement in flight fails...
            assert db.one("SELECT 2") == (2,)  # ...and the next one gets a fresh connection
        finally:
            db.close()
