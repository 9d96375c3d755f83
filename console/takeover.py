"""Take over a conversation, reply as staff, give it back.

One staff member holds a conversation at a time (console_takeovers); while they hold it the
assistant is paused there (Rasa's pause/resume). Giving back resumes the assistant and takes
the conversation out of the hand-off queue.
"""
from __future__ import annotations

import time

from console.accounts import User
from console.db import ConsoleDB
from console.rasa_client import RasaClient

MAX_REPLY = 1600  # what one SMS can carry; the web chat takes the same


class Conflict(Exception):
    """409: someone else holds the conversation, or nobody does."""


class NotFound(Exception):
    """404: no such conversation."""


def holder(db: ConsoleDB, sender_id: str) -> tuple[str, str] | None:
    row = db.one("SELECT user_id, user_name FROM console_takeovers WHERE sender_id = ?", (sender_id,))
    return (row[0], row[1]) if row else None


def _exists(db: ConsoleDB, sender_id: str) -> bool:
    return db.one("SELECT 1 FROM console_conversations WHERE sender_id = ?", (sender_id,)) is not None or (
        db.table_exists("events") and db.one("SELECT 1 FROM events WHERE sender_id = ? LIMIT 1", (sender_id,))
        is not None)


async def take(db: ConsoleDB, rasa: RasaClient, sender_id: str, user: User) -> None:
    if not _exists(db, sender_id):
        raise NotFound("no conversation with that id")
    with db.transaction() as tx:
        taken = tx.run("INSERT INTO console_takeovers (sender_id, user_id, user_name, at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (sender_id) DO NOTHING", (sender_id, user.id, user.name, time.time()))
    if not taken:
        current = holder(db, sender_id)
        if current and current[0] != user.id:
            raise Conflict(f"{current[1]} has already taken over this conversation")
    try:
        await rasa.pause(sender_id)
    except Exception:
        if taken:  # nothing half done: the assistant still answers, so nobody holds it
            db.run("DELETE FROM console_takeovers WHERE sender_id = ? AND user_id = ?", (sender_id, user.id))
        raise


async def give_back(db: ConsoleDB, rasa: RasaClient, sender_id: str, user: User) -> None:
    current = holder(db, sender_id)
    if current is None:
        raise Conflict("nobody has taken over this conversation")
    if current[0] != user.id and not user.is_admin:
        raise Conflict(f"{current[1]} holds this conversation; only they or an admin can give it back")
    await rasa.resume(sender_id)
    with db.transaction() as tx:
        tx.run("DELETE FROM console_takeovers WHERE sender_id = ?", (sender_id,))
        tx.run("UPDATE console_conversations SET handled_at = ?, paused = 0 WHERE sender_id = ?",
               (time.time(), sender_id))


def check_reply(text: object) -> str:
    """The reply to send, or ValueError with what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("write a reply first")
    text = text.strip()
    if len(text) > MAX_REPLY:
        raise ValueError(f"the reply is {len(text)} characters; at most {MAX_REPLY} fit (one SMS message)")
    return text


async def reply(db: ConsoleDB, rasa: RasaClient, sender_id: str, user: User, text: object, channel: str) -> str:
    body = check_reply(text)
    current = holder(db, sender_id)
    if current is None or current[0] != user.id:
        raise Conflict("take over the conversation before replying"
                       if current is None else f"{current[1]} holds this conversation")
    await rasa.send(sender_id, channel, body, user.name)
    return body
