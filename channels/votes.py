"""Thumbs up/down on the widget's answers, taken by the Rasa server itself.

The widget posts its votes to POST /webhooks/socketio/feedback, on the same server (and
so the same origin, CORS and proxy) as its socket.io connection, so they arrive wherever
the widget script is embedded. Body (JSON): conversation_id, vote "up"|"down",
answer_text, optional question_text. Stored with core.feedback_store (kind 'thumb',
channel 'socketio'): 204 when stored, 400 malformed, 411/413 bad length, 429 too many votes
(VOTE_LIMIT_PER_CONVERSATION, default 30, and VOTE_LIMIT_PER_ADDRESS, default 60, a minute: every
vote is a row in the database), 503 store down.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from dataclasses import replace
from typing import Any, Callable, Optional

from channels.guard import FloodGuard, RateLimits, client_address, positive_setting

log = logging.getLogger(__name__)

MAX_FEEDBACK_BYTES = 16 * 1024
MAX_FEEDBACK_TEXT = 2000
VOTES = {"up": 1, "down": -1}
VOTES_PER_CONVERSATION, VOTES_PER_ADDRESS = 30, 60  # a minute
FEEDBACK_FIELDS = {"conversation_id", "vote", "answer_text", "question_text"}
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:@+-]{1,128}$")


class BadFeedback(ValueError):
    """The vote is malformed; the message says what is wrong."""


def parse_vote(body: bytes) -> Any:
    """A Feedback record (kind 'thumb', channel 'socketio') from the widget's JSON.

    Args:
        body: the request body.
    Returns:
        core.feedback_store.Feedback; raises BadFeedback saying what is wrong.
    """
    from core.feedback_store import Feedback

    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadFeedback("the body must be a UTF-8 JSON object") from None
    if not isinstance(data, dict):
        raise BadFeedback("the body must be a JSON object")
    unknown = set(data) - FEEDBACK_FIELDS
    if unknown:
        raise BadFeedback(f"unknown field(s): {', '.join(sorted(unknown))[:200]}")
    conversation = data.get("conversation_id")
    if not isinstance(conversation, str) or not _CONVERSATION_ID.match(conversation):
        raise BadFeedback("'conversation_id' must be 1-128 letters, digits or _.:@+-")
    vote = data.get("vote")
    if not isinstance(vote, str) or vote not in VOTES:
        raise BadFeedback("'vote' must be \"up\" or \"down\"")
    answer = _text(data, "answer_text", required=True)
    question = _text(data, "question_text", required=False)
    return Feedback(conversation_id=conversation, channel="socketio", kind="thumb", rating=VOTES[vote],
                    answer_text=answer, question_text=question)


def _text(data: dict, name: str, required: bool) -> Optional[str]:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadFeedback(f"'{name}' must be a string")
    if len(value) > MAX_FEEDBACK_TEXT:
        raise BadFeedback(f"'{name}' is longer than {MAX_FEEDBACK_TEXT} characters")
    value = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    if required and not value:
        raise BadFeedback(f"'{name}' must not be empty")
    return value or None


def vote_guard(env: Any = None) -> FloodGuard:
    """Votes counted per conversation and per client address, apart from chat messages."""
    env = os.environ if env is None else env
    limits = RateLimits(positive_setting(env, "VOTE_LIMIT_PER_CONVERSATION", VOTES_PER_CONVERSATION),
                        positive_setting(env, "VOTE_LIMIT_PER_ADDRESS", VOTES_PER_ADDRESS), 60)
    return FloodGuard(limits, env.get("REDIS_URL"), name="votes")


def add_vote_route(blueprint: Any, store: Optional[Callable[[], Any]] = None,
                   guard: Optional[FloodGuard] = None,
                   conversation: Optional[Callable[[str], Optional[str]]] = None) -> None:
    """Add POST /feedback to a channel's Sanic blueprint.

    Args:
        blueprint: the socket.io channel's blueprint (mounted at /webhooks/socketio).
        store: returns the FeedbackStore; default: the settings' database, made on the first vote.
        guard: counts the votes; default: vote_guard() from the environment.
        conversation: the conversation a widget's session id opens (None: not one the server
            issued); the vote is kept under that conversation, never under the session id itself.
    """
    from sanic import response
    from sanic.request import Request

    made: list = []
    guard = guard or vote_guard()

    def feedback_store() -> Any:
        if store is not None:
            return store()
        if not made:
            from core.feedback_store import FeedbackStore

            made.append(FeedbackStore.from_settings())
        return made[0]

    def error(status: int, message: str) -> Any:
        return response.json({"error": message}, status=status, headers={"Cache-Control": "no-store"})

    @blueprint.route("/feedback", methods=["POST"])
    async def feedback(request: Request) -> Any:
        if request.headers.get("content-length") is None:
            return error(411, "send the body with a Content-Length")
        body = request.body or b""
        if len(body) > MAX_FEEDBACK_BYTES:
            return error(413, f"the body must be at most {MAX_FEEDBACK_BYTES} bytes")
        if not (request.headers.get("content-type") or "").lower().startswith("application/json"):
            return error(400, "Content-Type must be application/json")
        try:
            record = parse_vote(body)
        except BadFeedback as bad:
            return error(400, str(bad))
        if conversation is not None:
            opened = conversation(record.conversation_id)
            if opened is None:
                return error(400, "'conversation_id' must be the session id the chat was given")
            record = replace(record, conversation_id=opened)
        verdict = await guard.check("votes", record.conversation_id, client_address(request.ip, request.headers))
        if verdict.limited:
            return response.json({"error": "too many votes: try again in a minute"}, status=429,
                                 headers={"Retry-After": str(verdict.retry_after), "Cache-Control": "no-store"})
        try:  # the store is blocking (sqlite3/psycopg2): off the event loop
            await asyncio.get_running_loop().run_in_executor(None, lambda: feedback_store().add(record))
        except Exception as exc:  # the store is down: say so, log no content
            log.error("feedback not stored: %s", type(exc).__name__)
            return error(503, "feedback could not be stored, please try again later")
        return response.empty(status=204, headers={"Cache-Control": "no-store"})
