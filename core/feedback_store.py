"""Customer feedback: star ratings from the feedback form and thumbs from the web chat.

One table, `feedback`, in the database the Rasa tracker store uses: the SQLite file
MILEA_DATA_DIR/tracker.db by default (Rasa's own tables live there too, so every
connection waits for locks and the file runs in WAL mode), or PostgreSQL when
FEEDBACK_DB_URL (or TRACKER_DB_URL) is a postgresql:// URL (psycopg2).

    store = FeedbackStore.from_settings()
    store.add(Feedback("conv-1", "socketio", "thumb", 1, answer_text="We open at noon."))
    store.all()
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Optional, Protocol

from core import migrations
from core.database import Database
from core.settings import shared_settings

MAX_TEXT = 2000
MAX_ID = 128
KINDS = ("rating", "thumb")
COLUMNS = ("id", "conversation_id", "channel", "kind", "rating", "comment", "answer_text", "question_text",
           "created_at")  # the report's CSV columns
# The table is created and upgraded by core.migrations.


class Placed(Protocol):
    """Settings that say where the feedback table is (core.settings.SharedSettings, actions' Settings)."""

    @property
    def feedback_database(self) -> str: ...


@dataclass(frozen=True)
class Feedback:
    conversation_id: str
    channel: str
    kind: str  # 'rating' (1-5) or 'thumb' (+1 / -1)
    rating: int
    comment: Optional[str] = None
    answer_text: Optional[str] = None
    question_text: Optional[str] = None
    created_at: Optional[datetime] = None  # UTC; set on insert when None
    id: Optional[int] = None
    # The customer turn it answers (actions.turns.turn_key): a replayed action call stores it once.
    turn_key: Optional[str] = None


def check(item: Feedback) -> None:
    """Raise ValueError when the record cannot be stored as it is."""
    if not isinstance(item.conversation_id, str) or not 0 < len(item.conversation_id) <= MAX_ID:
        raise ValueError("conversation_id must be 1-128 characters")
    if not isinstance(item.channel, str) or not 0 < len(item.channel) <= 64:
        raise ValueError("channel must be 1-64 characters")
    if item.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if isinstance(item.rating, bool) or not isinstance(item.rating, int):
        raise ValueError("rating must be an integer")
    if item.kind == "rating" and not 1 <= item.rating <= 5:
        raise ValueError("a rating is 1 to 5")
    if item.kind == "thumb" and item.rating not in (-1, 1):
        raise ValueError("a thumb is +1 or -1")
    if item.turn_key is not None and (not isinstance(item.turn_key, str) or not 0 < len(item.turn_key) <= 256):
        raise ValueError("turn_key must be 1-256 characters")
    for name in ("comment", "answer_text", "question_text"):
        value = getattr(item, name)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise ValueError(f"{name} must be text of at most {MAX_TEXT} characters")


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc)


class FeedbackStore(Database):
    """The feedback table behind a database URL: sqlite:///path or postgresql://..."""

    def __init__(self, url: str) -> None:
        try:
            super().__init__(url)
        except ValueError:
            raise ValueError("the feedback database must be sqlite:///<path> or postgresql://...") from None
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Optional[Placed] = None) -> "FeedbackStore":
        """The store at `settings.feedback_database` (default: the shared settings of this process)."""
        return cls((settings or shared_settings()).feedback_database)

    def ensure_table(self) -> None:
        """The schema is current (created by core.migrations; checked once per process)."""
        if not self._ready:
            migrations.ensure(self.url)
            self._ready = True

    # ---- records
    def add(self, item: Feedback) -> int:
        """Store one record, once per (conversation, turn_key); returns its id (the first one's on a replay)."""
        check(item)
        self.ensure_table()
        created = _utc(item.created_at or datetime.now(timezone.utc))
        values = (item.conversation_id, item.channel, item.kind, item.rating, item.comment, item.answer_text,
                  item.question_text,
                  created.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if self.dialect == "sqlite" else created, item.turn_key)
        sql = ("INSERT INTO feedback (conversation_id, channel, kind, rating, comment, answer_text, question_text, "
               "created_at, turn_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (conversation_id, turn_key) DO NOTHING")
        with self._connect() as db:
            if self.dialect == "sqlite":
                cursor = self.execute(db, sql, values)
                if cursor.rowcount == 1:
                    return int(cursor.lastrowid)
            else:
                row = self.execute(db, sql + " RETURNING id", values).fetchone()
                if row:
                    return int(row[0])
            return int(self.execute(db, "SELECT id FROM feedback WHERE conversation_id = ? AND turn_key = ?",
                                     (item.conversation_id, item.turn_key)).fetchone()[0])

    def all(self) -> List[Feedback]:
        """Every record, oldest first."""
        self.ensure_table()
        with self._connect(write=False) as db:
            rows = self.execute(db, f"SELECT {', '.join(COLUMNS)}, turn_key FROM feedback "
                                     "ORDER BY created_at, id").fetchall()
        return [Feedback(id=int(r[0]), conversation_id=r[1], channel=r[2], kind=r[3], rating=int(r[4]), comment=r[5],
                         answer_text=r[6], question_text=r[7], created_at=_utc(r[8]), turn_key=r[9]) for r in rows]
