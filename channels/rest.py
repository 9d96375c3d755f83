"""The REST channel with input checks: bad requests get a clear 4xx, never a 5xx.

Keeps Rasa's path (/webhooks/rest/webhook) and reply format; only adds the
checks Rasa's own RestInput lacks (non-text messages, empty or huge texts,
crafted '/intent{...}' payloads) and the flood limit: over it, 429 with a reply the
customer reads and Retry-After. A website customer token in the metadata is exchanged for a proof
bound to the conversation (core/customer_proof.py). The caller names its sender, inside REST's own id space
(channels/id_spaces.py): a phone number or a web chat's id never reaches that conversation.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.id_spaces import RestSpace
from channels.guard import (CARD_TEXT, LIMITED_TEXT, MAX_METADATA_BYTES, MAX_METADATA_DEPTH, RejectedMessage, clean_sender,
                            client_address, flood_guard, metadata_too_large, nested_too_deep, prepare_message)
from core.cards import looks_like_card_number
from core.customer_proof import exchange

log = logging.getLogger(__name__)


def _error(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class SafeRestInput(InputChannel):
    space = RestSpace()  # the caller's sender -> the conversation, in REST's own id space

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("milea_rest_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises on malformed JSON
                return _error(400, "the request body must be JSON")
            if not isinstance(body, dict):
                return _error(400, "the request body must be a JSON object with 'sender' and 'message'")
            sender = clean_sender(body.get("sender", "default"))
            if sender is None:
                return _error(400, "'sender' must be a non-empty string of at most 128 characters")
            metadata = body.get("metadata")
            if metadata is not None and not isinstance(metadata, dict):
                return _error(400, "'metadata' must be a JSON object")
            if nested_too_deep(metadata):
                return _error(400, f"'metadata' is nested more than {MAX_METADATA_DEPTH} levels deep")
            if metadata_too_large(metadata):
                return _error(413, f"'metadata' is larger than {MAX_METADATA_BYTES} bytes")
            try:
                text = prepare_message(body.get("message"))
            except RejectedMessage as rejected:
                return _error(rejected.status, rejected.reason)
            if looks_like_card_number(text):   # never stored nor sent on: said where a card goes instead
                return response.json([{"recipient_id": sender, "text": CARD_TEXT}])
            verdict = await flood_guard().check(self.name(), sender, client_address(request.ip, request.headers))
            if verdict.limited:  # in the reply format, so a chat client shows it like any answer
                return response.json([{"recipient_id": sender, "text": LIMITED_TEXT}], status=429,
                                     headers={"Retry-After": str(verdict.retry_after)})
            conversation = await self.space.conversation(getattr(request.app.ctx, "agent", None), sender)
            # the website's customer token never reaches Rasa (tracker store, event bus): a proof bound
            # to this conversation does, and only when the token was valid
            metadata = exchange(metadata, conversation, self.name())
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(text, collector, conversation, input_channel=self.name(), metadata=metadata)
            )
            return response.json([{**m, "recipient_id": sender} for m in collector.messages])

        return hook
