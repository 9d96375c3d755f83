"""The SMS consent ledger: who agreed to get texts the winery starts, and every change with its proof.

A number is opted in only by its owner:
- an SMS keyword from that number (START, JOIN, UNSTOP, or YES to the opt-in question the assistant asked
  it within ASK_VALID_S): channel "sms", the words as they came;
- a checked box in a flow where the phone was proven (a one-time code): channel "web";
- a staff import that names the source and the date of each consent: channel "import".
STOP and Twilio's other opt-out words win at once (also over a queued campaign) and an import never
turns an opt-out back in: only the owner's own opt-in (a keyword) does.

`sms_consent` holds the current state of each number; `sms_consent_log` every change (time, channel,
words, source, who), never updated nor deleted by the ledger: the audit trail the console exports.
`sms_opt_out` (the SMS channel's check, channels/sms_store.py) is kept in step in the same transaction.
The tables live in the SMS channel's database (core/settings.py `sms_database`).
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from core import migrations, phones
from core.database import Database
from core.texts import render

IN, OUT = "in", "out"
ASK_VALID_S = 7 * 24 * 3600.0  # a YES counts as consent within a week of the question
CSV_COLUMNS = ("time_utc", "phone", "status", "channel", "words", "source", "by", "consented_at_utc")


@dataclass(frozen=True)
class ImportResult:
    opted_in: int = 0  # new consents recorded
    already_in: int = 0  # numbers already opted in (their first consent is kept)
    kept_out: int = 0  # numbers that opted out: an import never overrides that
    invalid: list[str] | None = None  # lines that could not be read, with why

    def as_dict(self) -> dict[str, Any]:
        return {"opted_in": self.opted_in, "already_in": self.already_in, "kept_out": self.kept_out,
                "invalid": list(self.invalid or [])}


def _iso(stamp: Optional[float]) -> str:
    if stamp is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def parse_date(text: str) -> Optional[float]:
    """'2025-03-01' or '2025-03-01T10:00:00Z' -> a UTC timestamp; None when unreadable or in the future."""
    from datetime import datetime, timezone

    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y"):
        try:
            stamp = datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
        return stamp if stamp <= time.time() + 86400 else None
    return None


class ConsentLedger(Database):
    """Args: target: the SMS database (sqlite:///... or postgresql://..., or a Path to a SQLite file)."""

    def __init__(self, target: Union[Path, str]) -> None:
        super().__init__(target)
        migrations.ensure(self.url)

    # ---- reading
    def status(self, phone: str) -> Optional[str]:
        """'in', 'out', or None for a number that never said either."""
        with self._connect(write=False) as db:
            row = self.execute(db, "SELECT status FROM sms_consent WHERE phone = ?", (phone,)).fetchone()
        return row[0] if row and row[0] else None  # '' : only asked

    def opted_in(self, phone: str) -> bool:
        return self.status(phone) == IN

    def opted_in_numbers(self) -> list[str]:
        with self._connect(write=False) as db:
            rows = self.execute(db, "SELECT phone FROM sms_consent WHERE status = ? ORDER BY phone", (IN,)).fetchall()
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        with self._connect(write=False) as db:
            rows = self.execute(db, "SELECT status, COUNT(*) FROM sms_consent GROUP BY status").fetchall()
        found = {status: int(n) for status, n in rows}
        return {"opted_in": found.get(IN, 0), "opted_out": found.get(OUT, 0)}

    def asked_recently(self, phone: str, now: Optional[float] = None) -> bool:
        """The assistant asked this number the opt-in question within ASK_VALID_S."""
        now = time.time() if now is None else now
        with self._connect(write=False) as db:
            row = self.execute(db, "SELECT asked_at FROM sms_consent WHERE phone = ?", (phone,)).fetchone()
        return bool(row and row[0] and row[0] >= now - ASK_VALID_S)

    def opted_out_since(self, numbers: Sequence[str], since: float) -> int:
        """How many of `numbers` opted out at or after `since` (the 'opted out since' of a campaign)."""
        wanted = set(numbers)
        if not wanted:
            return 0
        with self._connect(write=False) as db:
            rows = self.execute(db, "SELECT DISTINCT phone FROM sms_consent_log WHERE status = ? AND at >= ?",
                                (OUT, since)).fetchall()
        return sum(1 for r in rows if r[0] in wanted)

    def history(self, phone: Optional[str] = None, limit: int = 0) -> list[dict[str, Any]]:
        """Every change, oldest first (of one number when given)."""
        sql = ("SELECT at, phone, status, channel, words, source, actor, consented_at FROM sms_consent_log"
               + (" WHERE phone = ?" if phone else "") + " ORDER BY at, id")
        params: tuple[Any, ...] = (phone,) if phone else ()
        if limit:
            sql = sql.replace("ORDER BY at, id", "ORDER BY at DESC, id DESC") + f" LIMIT {int(limit)}"
        with self._connect(write=False) as db:
            rows = self.execute(db, sql, params).fetchall()
        out = [{"at": r[0], "phone": r[1], "status": r[2], "channel": r[3], "words": r[4], "source": r[5],
                "by": r[6], "consented_at": r[7]} for r in rows]
        return out

    def export_csv(self) -> Iterator[str]:
        """The audit trail as CSV lines (header first), oldest change first."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield buffer.getvalue()
        for row in self.history():
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_iso(row["at"]), row["phone"], row["status"], row["channel"], row["words"],
                             row["source"], row["by"], _iso(row["consented_at"])])
            yield buffer.getvalue()

    # ---- changing
    def _record(self, db: Any, phone: str, status: str, channel: str, words: str, source: str, actor: str,
                at: float, consented_at: Optional[float] = None) -> None:
        self.execute(db, "INSERT INTO sms_consent (phone, status, source, at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (phone) DO UPDATE SET status = excluded.status, source = excluded.source, "
                         "at = excluded.at", (phone, status, source, at))
        self.execute(db, "INSERT INTO sms_consent_log (phone, at, status, channel, words, source, actor, consented_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (phone, at, status, channel, words[:500], source[:300], actor[:200], consented_at))
        if status == OUT:
            self.execute(db, "INSERT INTO sms_opt_out (phone, at) VALUES (?, ?) ON CONFLICT (phone) DO UPDATE SET "
                             "at = excluded.at", (phone, at))
            self.execute(db, "DELETE FROM sms_buttons WHERE phone = ?", (phone,))
        else:
            self.execute(db, "DELETE FROM sms_opt_out WHERE phone = ?", (phone,))

    def opt_in(self, phone: str, channel: str, words: str, source: str, actor: str = "customer") -> bool:
        """The owner's own opt-in (an SMS keyword, or a checked box with the phone proven); True when it changed."""
        now = time.time()
        with self._connect() as db:
            row = self.execute(db, "SELECT status FROM sms_consent WHERE phone = ?", (phone,)).fetchone()
            if row and row[0] == IN:
                return False
            self._record(db, phone, IN, channel, words, source, actor, now, now)
        return True

    def opt_out(self, phone: str, channel: str, words: str, source: str = "customer", actor: str = "customer") -> bool:
        """STOP (or Twilio reporting the number unsubscribed): at once, whatever came before; True when it changed.
        Also recorded when the number was never in: a later import must not opt it in."""
        now = time.time()
        with self._connect() as db:
            row = self.execute(db, "SELECT status FROM sms_consent WHERE phone = ?", (phone,)).fetchone()
            if row and row[0] == OUT:
                self.execute(db, "INSERT INTO sms_opt_out (phone, at) VALUES (?, ?) ON CONFLICT (phone) DO NOTHING",
                             (phone, now))
                return False
            self._record(db, phone, OUT, channel, words, source, actor, now)
            # a campaign or event text still queued for this number is not sent
            self.execute(db, "UPDATE sms_outgoing SET status = 'skipped', reason = 'opted_out', updated_at = ? "
                             "WHERE phone = ? AND status = 'queued'", (now, phone))
        return True

    def mark_asked(self, phone: str) -> None:
        """The assistant asked this number whether it wants texts: a YES within ASK_VALID_S opts it in."""
        now = time.time()
        with self._connect() as db:
            updated = self.execute(db, "UPDATE sms_consent SET asked_at = ? WHERE phone = ?", (now, phone)).rowcount
            if not updated:
                self.execute(db, "INSERT INTO sms_consent (phone, status, source, at, asked_at) VALUES (?, '', "
                                 "'asked', ?, ?)", (phone, now, now))

    def import_numbers(self, rows: Iterable[tuple[str, str, str]], actor: str) -> ImportResult:
        """Staff import of (phone, source, date of consent): each recorded with its source and date; a number
        that opted out stays out. Lines with an unreadable phone or date, or no source, are listed as invalid."""
        opted, already, kept, invalid = 0, 0, 0, []
        now = time.time()
        with self._connect() as db:
            for n, (raw_phone, source, date) in enumerate(rows, start=1):
                phone = phones.to_e164(raw_phone)
                consented = parse_date(date)
                source = (source or "").strip()
                if not phone:
                    invalid.append(f"line {n}: {str(raw_phone)[:40]!r} is not a phone number")
                    continue
                if not source or consented is None:
                    invalid.append(f"line {n}: each consent needs its source and its date (YYYY-MM-DD)")
                    continue
                row = self.execute(db, "SELECT status FROM sms_consent WHERE phone = ?", (phone,)).fetchone()
                if row and row[0] == OUT:
                    kept += 1
                    continue
                if row and row[0] == IN:
                    already += 1
                    continue
                self._record(db, phone, IN, "import", f"consent given {date.strip()}", source, actor, now, consented)
                opted += 1
        return ImportResult(opted, already, kept, invalid)


def question(name: str, cap: Any) -> str:
    """The opt-in question the assistant asks a number that texted the winery (utter_sms_consent_question)."""
    return render("utter_sms_consent_question", "twilio", name=name, cap=cap)


def read_import_csv(text: str) -> list[tuple[str, str, str]]:
    """CSV with the columns phone, source, date (a header line naming them is optional)."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if rows and rows[0] and rows[0][0].strip().lower() == "phone":
        rows = rows[1:]
    return [(r[0] if len(r) > 0 else "", r[1] if len(r) > 1 else "", r[2] if len(r) > 2 else "") for r in rows]
