"""Data care: backups, restores, retention and forgetting one person.

    python -m jobs.datacare backup [--out FILE]    make backup   one .tar.gz: the databases and the knowledge index
    python -m jobs.datacare restore FILE           make restore  (stop the assistant first)
    python -m jobs.datacare retention [--days N]   the jobs process runs it daily (RETENTION_DAYS, default 365)
    python -m jobs.datacare forget WHO             make forget WHO=+18455550100 or WHO=ann@example.com

The databases are where the assistant keeps them: PostgreSQL (TRACKER_DB_URL; pg_dump/pg_restore)
in the production profile, else the SQLite files of the data folder (tracker.db with the feedback,
outbox.db, sms.db). The knowledge index (Chroma, embedded or CHROMA_URL) is exported as its vectors,
documents and metadata, so a restore needs no re-embedding.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from core.database import Database, is_postgres_url, redact
from core.service_settings import ServiceSettings

DEFAULT_RETENTION_DAYS = 365
FORMAT = 1


class Store(Database):
    """One database of the assistant with the statements data care needs (both dialects)."""

    def tables(self) -> set[str]:
        sql = ("SELECT name FROM sqlite_master WHERE type = 'table'" if self.dialect == "sqlite" else
               "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        with self._connect() as db:
            cursor = db.cursor()
            cursor.execute(sql)
            return {row[0] for row in cursor.fetchall()}

    def run(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self._connect() as db:
            cursor = db.cursor()
            cursor.execute(self.sql(sql), tuple(params))
            return cursor.rowcount

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        with self._connect() as db:
            cursor = db.cursor()
            cursor.execute(self.sql(sql), tuple(params))
            return cursor.fetchall()

    def like(self) -> str:
        """A case-insensitive LIKE with backslash escapes in this dialect."""
        return "LIKE ? ESCAPE '\\'" if self.dialect == "sqlite" else "ILIKE ? ESCAPE '\\'"


def _data_dir(settings: ServiceSettings) -> Path:
    return settings.data_dir


def stores(settings: ServiceSettings) -> list[Store]:
    """Every database of the assistant, each once: one PostgreSQL database, or the SQLite files."""
    tracker = (os.environ.get("TRACKER_DB_URL") or "").strip()
    sms = (os.environ.get("SMS_DB_URL") or "").strip() or (tracker if is_postgres_url(tracker) else "")
    urls = [tracker if is_postgres_url(tracker) else f"sqlite:///{_data_dir(settings) / 'tracker.db'}",
            settings.feedback_database, settings.outbox_database,
            sms or f"sqlite:///{_data_dir(settings) / 'sms.db'}"]
    unique = list(dict.fromkeys(u.replace("postgres://", "postgresql://", 1) for u in urls))
    return [Store(u) for u in unique if is_postgres_url(u) or Path(u[len("sqlite:///"):]).exists()]


# ---- retention
def retention(settings: ServiceSettings, days: float, now: float | None = None) -> dict[str, int]:
    """Delete what is older than `days`: conversation events, feedback, delivered outbox jobs, SMS menus
    and handled message ids. Opt-outs are kept (a STOP stays a STOP). Returns counts per kind."""
    cutoff = (now or time.time()) - days * 86400
    cutoff_iso = datetime.fromtimestamp(cutoff, timezone.utc).isoformat()
    removed = {"conversation events": 0, "feedback": 0, "outbox jobs": 0, "sms menus": 0, "sms message ids": 0,
               "texts sent": 0, "commerce7 events": 0, "club replies": 0}
    for store in stores(settings):
        tables = store.tables()
        if "events" in tables:
            removed["conversation events"] += store.run("DELETE FROM events WHERE timestamp < ?", [cutoff])
        if "feedback" in tables:
            feedback_cutoff = cutoff_iso if store.dialect == "sqlite" else datetime.fromtimestamp(cutoff, timezone.utc)
            removed["feedback"] += store.run("DELETE FROM feedback WHERE created_at < ?", [feedback_cutoff])
        if "outbox" in tables:  # pending and attention jobs still owe the customer something: kept
            removed["outbox jobs"] += store.run("DELETE FROM outbox WHERE status = 'done' AND updated_at < ?", [cutoff])
        if "sms_buttons" in tables:
            removed["sms menus"] += store.run("DELETE FROM sms_buttons WHERE at < ?", [cutoff])
        if "sms_handled" in tables:
            removed["sms message ids"] += store.run("DELETE FROM sms_handled WHERE at < ?", [cutoff])
        if "sms_outgoing" in tables:  # texts the winery started (the consent ledger is kept: it is the proof)
            removed["texts sent"] += store.run("DELETE FROM sms_outgoing WHERE status NOT IN ('queued', 'sending') "
                                               "AND updated_at < ?", [cutoff])
            removed["commerce7 events"] += store.run("DELETE FROM c7_events WHERE received_at < ?", [cutoff])
            removed["club replies"] += store.run("DELETE FROM club_choices WHERE at < ?", [cutoff])
    return removed


def retention_days() -> float:
    raw = (os.environ.get("RETENTION_DAYS") or "").strip()
    try:
        days = float(raw) if raw else DEFAULT_RETENTION_DAYS
    except ValueError:
        raise SystemExit(f"RETENTION_DAYS must be a number of days, got {raw!r}") from None
    if days <= 0:
        raise SystemExit("RETENTION_DAYS must be more than 0")
    return days


# ---- forget one person
def identities(who: str) -> list[str]:
    """The ways `who` (an email address or a phone number) is written in the stores."""
    who = who.strip()
    if "@" in who:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", who):
            raise ValueError(f"{who!r} is not an email address")
        return [who.lower()]
    digits = re.sub(r"\D", "", who)
    if not 7 <= len(digits) <= 15:
        raise ValueError(f"{who!r} is neither an email address nor a phone number")
    national = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    forms = {f"+{digits}", digits, national, f"+1{national}" if len(national) == 10 else f"+{digits}"}
    if len(national) == 10:  # how people type US numbers in a chat
        forms |= {f"({national[:3]}) {national[3:6]}-{national[6:]}", f"{national[:3]}-{national[3:6]}-{national[6:]}"}
    return sorted(forms)


def _pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class Forgotten:
    conversations: int = 0
    conversation_events: int = 0
    feedback: int = 0
    outbox_jobs: int = 0
    sms_menus: int = 0
    texts: int = 0
    opt_out_kept: bool = False

    def lines(self, who: str) -> list[str]:
        lines = [f"forgot {who}:",
                 f"  conversations: {self.conversations} ({self.conversation_events} events) deleted",
                 f"  feedback: {self.feedback} entries deleted",
                 f"  Commerce7 outbox: {self.outbox_jobs} jobs deleted (not sent to Commerce7)",
                 f"  SMS menus: {self.sms_menus} deleted",
                 f"  texts the winery started (campaigns, order and club texts, replies): {self.texts} deleted"]
        if self.opt_out_kept:
            lines.append("  SMS opt-out: kept, so this number is never texted again")
        lines.append("  not touched here: the customer's Commerce7 record (delete it in Commerce7 admin) "
                     "and backups made before today (they expire with your backup rotation)")
        if (os.environ.get("RABBITMQ_URL") or "").strip():
            lines.append("  RabbitMQ: events already published went to the queue's consumers; ask whoever reads "
                         f"queue {os.environ.get('RABBITMQ_QUEUE') or 'milea_events'} to delete them too")
        return lines


def forget(settings: ServiceSettings, who: str) -> Forgotten:
    """Delete every conversation that came from, or mentions, `who`, with its feedback, the outbox jobs
    and SMS menus that carry it."""
    forms = identities(who)
    done = Forgotten()
    for store in stores(settings):
        tables = store.tables()
        senders: set[str] = set()
        if "events" in tables:
            match = " OR ".join(["sender_id = ?"] * len(forms) + [f"data {store.like()}"] * len(forms))
            senders = {row[0] for row in store.rows(f"SELECT DISTINCT sender_id FROM events WHERE {match}",
                                                   [*forms, *map(_pattern, forms)])}
            for sender in senders:
                done.conversation_events += store.run("DELETE FROM events WHERE sender_id = ?", [sender])
            done.conversations += len(senders)
        if "feedback" in tables:
            text = " OR ".join(f"{column} {store.like()}" for column in ("comment", "answer_text", "question_text")
                               for _ in forms)
            params = [_pattern(f) for _ in ("comment", "answer_text", "question_text") for f in forms]
            by_sender = " OR ".join(["conversation_id = ?"] * len(senders | set(forms)))
            done.feedback += store.run(f"DELETE FROM feedback WHERE {by_sender} OR {text}",
                                       [*sorted(senders | set(forms)), *params])
        if "outbox" in tables:
            match = " OR ".join([f"payload {store.like()}"] * len(forms))
            done.outbox_jobs += store.run(f"DELETE FROM outbox WHERE {match}", [_pattern(f) for f in forms])
        if "sms_buttons" in tables:
            match = " OR ".join(["phone = ?"] * len(forms))
            done.sms_menus += store.run(f"DELETE FROM sms_buttons WHERE {match}", forms)
        if "sms_outgoing" in tables:  # the consent ledger stays: proof of consent and of STOP
            match = " OR ".join(["phone = ?"] * len(forms))
            done.texts += store.run(f"DELETE FROM sms_outgoing WHERE {match}", forms)
            done.texts += store.run(f"DELETE FROM club_choices WHERE {match}", forms)
        if "sms_opt_out" in tables:
            match = " OR ".join(["phone = ?"] * len(forms))
            done.opt_out_kept |= bool(store.rows(f"SELECT phone FROM sms_opt_out WHERE {match}", forms))
    return done


# ---- backup and restore
def _export_knowledge(settings: ServiceSettings, folder: Path) -> list[str]:
    from core.knowledge.store import COLLECTION_PREFIX, make_client

    client = make_client(settings)
    names = []
    for collection in client.list_collections():
        if not collection.name.startswith(COLLECTION_PREFIX) and collection.name != "milea_index_meta":
            continue
        collection = client.get_collection(collection.name, embedding_function=None)
        data = collection.get(include=["embeddings", "documents", "metadatas"])
        embeddings = data.get("embeddings")
        record = {"name": collection.name, "metadata": collection.metadata, "ids": data["ids"],
                  "documents": data.get("documents"), "metadatas": data.get("metadatas"),
                  "embeddings": [list(map(float, e)) for e in embeddings] if embeddings is not None else None}
        (folder / f"{collection.name}.json").write_text(json.dumps(record))
        names.append(collection.name)
    return names


def _import_knowledge(settings: ServiceSettings, folder: Path) -> list[str]:
    from core.knowledge.store import make_client

    client = make_client(settings)
    names = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        if record["name"] in {c.name for c in client.list_collections()}:
            client.delete_collection(record["name"])
        collection = client.create_collection(record["name"], metadata=record["metadata"] or None,
                                              embedding_function=None)
        for start in range(0, len(record["ids"]), 500):
            part = slice(start, start + 500)
            kwargs = {key: record[key][part] for key in ("documents", "metadatas", "embeddings") if record[key]}
            if not kwargs.get("embeddings"):  # the meta collection holds no vectors: a placeholder keeps Chroma happy
                kwargs["embeddings"] = [[0.0]] * len(record["ids"][part])
            collection.add(ids=record["ids"][part], **kwargs)
        names.append(record["name"])
    return names


def backup(settings: ServiceSettings, out: Path) -> list[str]:
    """Write one archive of the databases and the knowledge index; returns what it holds."""
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        manifest: dict[str, Any] = {"format": FORMAT, "made_at": datetime.now(timezone.utc).isoformat(),
                                    "databases": [], "knowledge": []}
        for store in stores(settings):
            if store.dialect == "postgresql":
                subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(folder / "postgresql.dump"),
                                "--dbname", store.dsn], check=True)
                manifest["databases"].append({"kind": "postgresql", "file": "postgresql.dump",
                                              "from": redact(store.dsn)})
            else:
                target = folder / store.path.name
                with sqlite3.connect(store.path) as source, sqlite3.connect(target) as copy:
                    source.backup(copy)  # consistent even while the assistant writes
                manifest["databases"].append({"kind": "sqlite", "file": store.path.name})
        (folder / "knowledge").mkdir()
        manifest["knowledge"] = _export_knowledge(settings, folder / "knowledge")
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for path in sorted(folder.rglob("*")):
                archive.add(path, arcname=str(path.relative_to(folder)), recursive=False)
        partial.replace(out)  # a backup file is complete or absent
        out.chmod(0o600)  # it holds conversations and personal data
    return [d["file"] for d in manifest["databases"]] + [f"knowledge/{n}" for n in manifest["knowledge"]]


def restore(settings: ServiceSettings, archive_path: Path) -> list[str]:
    """Put an archive's databases and knowledge index back (the assistant should be stopped)."""
    with tempfile.TemporaryDirectory() as temp, tarfile.open(archive_path) as archive:
        folder = Path(temp)
        for member in archive.getmembers():  # a backup holds plain files and folders, nothing else
            if member.name.startswith(("/", "..")) or ".." in Path(member.name).parts or not (member.isfile() or
                                                                                            member.isdir()):
                raise SystemExit(f"{archive_path}: unexpected entry {member.name!r}")
        # and the standard library's own guard where this Python has it (3.10.12+): members confined
        # to the folder, no links out of it, no devices, no set-user-id bits
        archive.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise SystemExit(f"{archive_path}: backup format {manifest.get('format')} is not {FORMAT}")
        restored = []
        tracker = (os.environ.get("TRACKER_DB_URL") or "").strip()
        for database in manifest["databases"]:
            name = str(database.get("file") or "")
            source = folder / name
            # a bare file name that the archive holds: "../x.db" would be written beside the data folder
            if Path(name).name != name or name in ("", ".", "..") or not source.is_file():
                raise SystemExit(f"{archive_path}: unexpected database file {name!r} in the manifest")
            if database["kind"] == "postgresql":
                if not is_postgres_url(tracker):
                    raise SystemExit("the backup holds a PostgreSQL database: set TRACKER_DB_URL to restore it")
                subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                "--dbname", Store(tracker).dsn, str(source)], check=True)
            else:
                target = _data_dir(settings) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with sqlite3.connect(source) as copy, sqlite3.connect(target) as live:
                    copy.backup(live)
            restored.append(name)
        restored += [f"knowledge/{n}" for n in _import_knowledge(settings, folder / "knowledge")]
    return restored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup")
    make.add_argument("--out", type=Path)
    put = commands.add_parser("restore")
    put.add_argument("archive", type=Path)
    keep = commands.add_parser("retention")
    keep.add_argument("--days", type=float)
    drop = commands.add_parser("forget")
    drop.add_argument("who", help="phone number or email address")
    args = parser.parse_args(argv)
    settings = ServiceSettings.from_env()
    say = lambda line: print(f"[milea] {line}", flush=True)  # noqa: E731
    if args.command == "backup":
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        out = args.out or Path("backups") / f"milea-{stamp}.tar.gz"
        held = backup(settings, out)
        say(f"backup {out}: {', '.join(held) or 'empty (no databases or knowledge index yet)'}")
    elif args.command == "restore":
        if not args.archive.exists():
            say(f"no such backup: {args.archive}")
            return 1
        say(f"restored from {args.archive}: {', '.join(restore(settings, args.archive))}")
    elif args.command == "retention":
        days = args.days or retention_days()
        removed = retention(settings, days)
        say(f"retention {days:g} days: " + ", ".join(f"{n} {k}" for k, n in removed.items()))
    else:
        try:
            done = forget(settings, args.who)
        except ValueError as error:
            say(str(error))
            return 2
        for line in done.lines(args.who):
            say(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
