"""Staff accounts, sign-in with lockout, and sessions (browser cookies and bearer tokens).

Passwords are bcrypt hashes. A session token is random and only its SHA-256 is stored, with a
CSRF token for the browser. Sign-in tries are counted per email (known or not) before the
password is checked; after `lockout_after` wrong ones in a row the email is locked for `lockout_s`
seconds, also when they come in parallel.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Optional

import bcrypt

from console.db import ConsoleDB

ROLES = ("staff", "admin")
MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
# checked when the email is unknown, so a wrong email costs as long as a wrong password
_DUMMY_HASH = bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds=10))
SEEN_EVERY_S = 60.0  # last_seen is written at most once a minute per session


class AccountError(ValueError):
    """A refused account change, with a sentence for the staff member."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    kind: str  # 'cookie' or 'bearer'
    token_hash: str


@dataclass(frozen=True)
class SignIn:
    user: Optional[User]
    locked_for: int = 0  # seconds; > 0 when the email is locked


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


class Accounts:
    def __init__(self, db: ConsoleDB, idle_s: int = 8 * 3600, lockout_after: int = 5, lockout_s: int = 900) -> None:
        self.db, self.idle_s, self.lockout_after, self.lockout_s = db, idle_s, lockout_after, lockout_s

    # ---- users
    def create_user(self, email: str, password: str, role: str = "staff", name: str = "") -> User:
        email = normal_email(email)
        if not _EMAIL.match(email):
            raise AccountError("that is not an email address")
        if role not in ROLES:
            raise AccountError(f"the role must be one of {', '.join(ROLES)}")
        if len(password or "") < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
        if len(password.encode()) > 72:
            raise AccountError("the password must be at most 72 bytes")
        if self.find(email):
            raise AccountError("an account with that email exists already")
        user = User(uuid.uuid4().hex, email, (name or email.split("@")[0]).strip()[:80], role)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        self.db.run("INSERT INTO console_users (id, email, name, role, password_hash, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (user.id, user.email, user.name, user.role, hashed, time.time()))
        return user

    def set_password(self, email: str, password: str) -> None:
        if len(password or "") < MIN_PASSWORD or len(password.encode()) > 72:
            raise AccountError(f"the password must have {MIN_PASSWORD} to 72 characters")
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        if not self.db.run("UPDATE console_users SET password_hash = ? WHERE email = ?", (hashed, normal_email(email))):
            raise AccountError("no account with that email")

    def find(self, email: str) -> Optional[User]:
        row = self.db.one("SELECT id, email, name, role FROM console_users WHERE email = ? AND disabled = 0",
                          (normal_email(email),))
        return User(*row) if row else None

    def users(self) -> list[tuple[User, int]]:
        """(user, seconds locked) for every active account, by email."""
        now = time.time()
        rows = self.db.all("SELECT u.id, u.email, u.name, u.role, f.locked_until FROM console_users u "
                           "LEFT JOIN console_login_failures f ON f.email = u.email WHERE u.disabled = 0 "
                           "ORDER BY u.email")
        return [(User(*row[:4]), max(0, int((row[4] or 0) - now))) for row in rows]

    def unlock(self, email: str) -> None:
        self.db.run("DELETE FROM console_login_failures WHERE email = ?", (normal_email(email),))

    def ensure_admin(self, email: Optional[str], password: Optional[str]) -> Optional[str]:
        """The first admin from the environment, created when missing; a line saying what happened."""
        if not (email and password):
            return None
        if self.find(email):
            return f"admin account {normal_email(email)} exists"
        self.create_user(email, password, "admin")
        return f"created the admin account {normal_email(email)} (STAFF_ADMIN_EMAIL)"

    # ---- sign-in
    def sign_in(self, email: str, password: str, now: Optional[float] = None) -> SignIn:
        now = time.time() if now is None else now
        email = normal_email(email)[:256]
        tries, locked_until = self._count_try(email, now)
        if locked_until > now:
            return SignIn(None, int(locked_until - now) + 1)
        found = self.db.one("SELECT id, email, name, role, password_hash FROM console_users "
                            "WHERE email = ? AND disabled = 0", (email,))
        secret = (password or "").encode()[:72]
        ok = bcrypt.checkpw(secret, found[4].encode() if found else _DUMMY_HASH) and found is not None
        if ok:
            self.db.run("DELETE FROM console_login_failures WHERE email = ?", (email,))
            return SignIn(User(*found[:4]))
        if tries >= self.lockout_after:
            self.db.run("UPDATE console_login_failures SET failures = 0, locked_until = ? WHERE email = ?",
                        (now + self.lockout_s, email))
            return SignIn(None, self.lockout_s)
        return SignIn(None)

    def _count_try(self, email: str, now: float) -> tuple[int, float]:
        """(this try's number in the row, locked until): counted before the password is checked, in one
        statement, so tries racing in parallel each get their own number (read-then-write let 24 of 40
        parallel tries through). A try beyond `lockout_after` locks the email at once; the try numbered
        `lockout_after` locks it when its password is wrong."""
        locked = "console_login_failures.locked_until > ?"
        over = "console_login_failures.failures + 1 > ?"
        with self.db.transaction() as tx:
            row = tx.all(
                "INSERT INTO console_login_failures (email, failures, locked_until) VALUES (?, 1, 0) "
                "ON CONFLICT (email) DO UPDATE SET "
                f"failures = CASE WHEN {locked} THEN console_login_failures.failures WHEN {over} THEN 0 "
                "ELSE console_login_failures.failures + 1 END, "
                f"locked_until = CASE WHEN {locked} THEN console_login_failures.locked_until WHEN {over} THEN ? "
                "ELSE 0 END RETURNING failures, locked_until",
                (email, now, self.lockout_after, now, self.lockout_after, now + self.lockout_s))[0]
        return int(row[0]), float(row[1])

    # ---- sessions
    def open_session(self, user: User, kind: str = "cookie") -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(24), kind, _hash_token(token))
        now = time.time()
        self.db.run("INSERT INTO console_sessions (token_hash, user_id, csrf, kind, created_at, last_seen) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (session.token_hash, user.id, session.csrf, kind, now, now))
        return token, session

    def session(self, token: Optional[str], kind: str) -> Optional[Session]:
        """The live session of that token, or None (unknown, expired, or the account disabled)."""
        if not token or len(token) > 200:
            return None
        digest = _hash_token(token)
        row = self.db.one("SELECT u.id, u.email, u.name, u.role, s.csrf, s.last_seen FROM console_sessions s "
                          "JOIN console_users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.kind = ? "
                          "AND u.disabled = 0", (digest, kind))
        now = time.time()
        if not row:
            return None
        if row[5] + self.idle_s < now:
            self.db.run("DELETE FROM console_sessions WHERE token_hash = ?", (digest,))
            return None
        if now - row[5] > SEEN_EVERY_S:
            self.db.run("UPDATE console_sessions SET last_seen = ? WHERE token_hash = ?", (now, digest))
        return Session(User(*row[:4]), row[4], kind, digest)

    def close_session(self, session: Session) -> None:
        self.db.run("DELETE FROM console_sessions WHERE token_hash = ?", (session.token_hash,))


def same(a: Optional[str], b: Optional[str]) -> bool:
    return bool(a and b) and hmac.compare_digest(a.encode(), b.encode())
