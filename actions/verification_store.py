"""One-time codes that prove a visitor owns a Commerce7 account.

A code is 6 digits, lives `ttl_s` (10 minutes), allows `max_attempts` (5) guesses,
and works once, only in the conversation it was sent for. Only an HMAC of it is
stored (keyed with the assistant's verification secret), never the code itself,
and nothing here logs it. Issuing is rate-limited per account and per sender, so
neither a customer's phone can be flooded nor an account guessed at from many
conversations: at most `account_limit` codes x `max_attempts` guesses per hour.

The table lives in the same database as the outbox (SQLite file, or PostgreSQL
shared by every action server).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from core import migrations
from core.database import Database

CODE_DIGITS = 6


@dataclass(frozen=True)
class Issued:
    """`code` is None when the rate limit refused a new one."""
    code: Optional[str]
    expires_at: float = 0.0


@dataclass(frozen=True)
class Check:
    outcome: str          # ok | wrong | expired | locked | none
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class CodeStore(Database):
    def __init__(self, target: Union[Path, str], secret: str, *, ttl_s: float = 600.0, max_attempts: int = 5,
                 account_limit: int = 5, sender_limit: int = 5, window_s: float = 3600.0) -> None:
        super().__init__(target)
        if not secret:
            raise ValueError("a verification secret is required")
        self._key = secret.encode()
        self.ttl_s, self.max_attempts = ttl_s, max_attempts
        self.account_limit, self.sender_limit, self.window_s = account_limit, sender_limit, window_s
        migrations.ensure(self.url)  # the table is migration 6 (core/migrations.py)

    def sender_key(self, sender_id: str) -> str:
        return hmac.new(self._key, f"sender:{sender_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def _hash(self, code_id: str, code: str) -> str:
        return hmac.new(self._key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()

    def issue(self, customer_id: str, sender_id: str, now: Optional[float] = None) -> Issued:
        """A fresh code for this account and conversation, replacing any earlier one; or a refusal."""
        now = time.time() if now is None else now
        sender = self.sender_key(sender_id)
        since = now - self.window_s
        with self._connect() as db:
            if self.dialect == "postgresql":  # one issuer at a time per account: the limit holds across replicas
                self.execute(db, "SELECT pg_advisory_xact_lock(hashtext(?))", (customer_id,))
            per_account = self.execute(
                db, "SELECT COUNT(*) FROM verification_codes WHERE customer_id = ? AND created_at > ?",
                (customer_id, since)).fetchone()[0]
            per_sender = self.execute(
                db, "SELECT COUNT(*) FROM verification_codes WHERE sender_key = ? AND created_at > ?",
                (sender, since)).fetchone()[0]
            if per_account >= self.account_limit or per_sender >= self.sender_limit:
                return Issued(None)
            self.execute(db, "UPDATE verification_codes SET used_at = ? WHERE customer_id = ? AND sender_key = ?"
                              " AND used_at IS NULL", (now, customer_id, sender))
            code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
            code_id = uuid.uuid4().hex
            self.execute(db, "INSERT INTO verification_codes (id, customer_id, sender_key, code_hash, created_at,"
                              " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                          (code_id, customer_id, sender, self._hash(code_id, code), now, now + self.ttl_s))
        return Issued(code, now + self.ttl_s)

    def check(self, customer_id: str, sender_id: str, code: str, now: Optional[float] = None) -> Check:
        """Spend one attempt on the conversation's live code for this account."""
        now = time.time() if now is None else now
        sender = self.sender_key(sender_id)
        with self._connect() as db:
            pick = ("SELECT id, code_hash, expires_at, attempts FROM verification_codes WHERE customer_id = ?"
                    " AND sender_key = ? AND used_at IS NULL ORDER BY created_at DESC LIMIT 1")
            if self.dialect == "postgresql":
                pick += " FOR UPDATE"  # two checks of one code take turns: each attempt counts
            row = self.execute(db, pick, (customer_id, sender)).fetchone()
            if row is None:
                return Check("none")
            code_id, code_hash, expires_at, attempts = row
            if expires_at <= now:
                return Check("expired")
            if attempts >= self.max_attempts:
                return Check("locked")
            attempts += 1
            if hmac.compare_digest(code_hash, self._hash(code_id, str(code))):
                updated = self.execute(db, "UPDATE verification_codes SET attempts = ?, used_at = ?"
                                            " WHERE id = ? AND used_at IS NULL", (attempts, now, code_id))
                return Check("ok") if updated.rowcount == 1 else Check("none")
            self.execute(db, "UPDATE verification_codes SET attempts = ? WHERE id = ?", (attempts, code_id))
            left = self.max_attempts - attempts
            return Check("wrong", left) if left > 0 else Check("locked")

    def purge(self, now: Optional[float] = None) -> int:
        """Forget codes older than the rate-limit window."""
        now = time.time() if now is None else now
        with self._connect() as db:
            return self.execute(db, "DELETE FROM verification_codes WHERE created_at < ?",
                                 (now - self.window_s,)).rowcount
