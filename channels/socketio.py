"""The socket.io channel (website widget) with the same input checks as REST.

Keeps Rasa's protocol (session_request / session_confirm, user_uttered,
bot_uttered) and settings keys; adds what Rasa's SocketIOInput lacks: messages
that are not text, empty or oversized get a clear reply instead of reaching NLU
or crashing the handler, and typed '/intent{...}' payloads lose entities a
button never sends. Events whose data cannot be decoded (integers over 100 digits,
brackets nested thousands deep) arrive without data and are answered as unreadable.
Only the widget's origins (WIDGET_ORIGINS) may open a connection, by polling or WebSocket.
Session ids are issued by the server (channels/widget_sessions.py): a client that presents one it was
not given gets a new conversation, and a connection writes only into the conversation it was confirmed in.
With REDIS_URL the replicas share their rooms (channels/socketio_rooms.py): a reply emitted to a
conversation's room on any replica reaches the visitor wherever their connection lives.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import engineio
from engineio import json as engineio_json
from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncManager, AsyncServer
from socketio import packet as socketio_packet

from core.cards import looks_like_card_number
from core.customer_proof import exchange
from core.texts import render
from channels.guard import (CARD_TEXT, LIMITED_TEXT, RejectedMessage, clean_sender, client_address, flood_guard,
                            metadata_too_large, nested_too_deep, prepare_message)
from channels.id_spaces import channels_written, held_elsewhere
from channels.origins import widget_origins
from channels.socketio_rooms import client_manager
from channels.votes import add_vote_route
from channels.widget_sessions import WidgetSessions, legacy_id, widget_key

log = logging.getLogger(__name__)

_EVENT_NAME = re.compile(r'\s*\[\s*("(?:[^"\\]|\\.)*")')
UNREADABLE_EVENT = "unreadable"  # no handler: an undecodable packet with no event name is dropped


class _PacketJson:
    """The json python-socketio decodes its packets with, without its tracebacks.

    engineio's loads refuses integers over 100 digits (ValueError) and json cannot decode
    thousands of nested brackets (RecursionError); either ended in a logged traceback and an
    event nobody answered. Now the event arrives without data and its handler answers.
    """

    dumps = staticmethod(engineio_json.dumps)

    @staticmethod
    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return engineio_json.loads(text, *args, **kwargs)
        except (ValueError, RecursionError):
            match = _EVENT_NAME.match(text) if isinstance(text, str) else None
            try:
                return [json.loads(match.group(1))] if match else [UNREADABLE_EVENT]
            except ValueError:
                return [UNREADABLE_EVENT]


class _SocketIOPacket(socketio_packet.Packet):
    """socket.io packets (events) decoded with _PacketJson."""

    json = _PacketJson


class _EngineIOJson:
    """The json engine.io packets (ping "2probe", upgrade "5", ...) are decoded with.

    engine.io tries json on every packet's data and keeps the raw text when json raises
    ValueError: "2probe" is a PING whose data is the text "probe". It must therefore not get
    _PacketJson, which answers anything undecodable with ["unreadable"]: the WebSocket
    upgrade's probe then failed ("no PING packet"), engine.io ended the WebSocket handler and
    Sanic wrote its HTTP 200 "OK" onto the upgraded connection, which the browser read as a
    frame with reserved bits set ("Invalid frame header", close 1002), so socket.io-client
    stayed on long-polling. Only RecursionError is turned into ValueError (raw text kept).
    """

    dumps = staticmethod(engineio_json.dumps)

    @staticmethod
    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return engineio_json.loads(text, *args, **kwargs)
        except RecursionError:
            raise ValueError("nested too deep") from None


def socketio_server(origins: list[str], manager: Optional[AsyncManager] = None) -> AsyncServer:
    """The socket.io server of the channel: Sanic driver, only `origins` may connect.

    `manager` shares rooms between replicas (socketio_rooms.SharedRooms); None keeps them in
    this process.

    A request whose Origin header is neither in `origins` nor the server's own origin gets a
    400 before any session exists (a page elsewhere cannot open the visitor's chat).
    Requests without Origin (servers) pass: browsers always send one. Non-browser clients
    that send their target as Origin (websocket-client does) are the server's own origin.
    """
    allowed = frozenset(origins)

    def accepts(origin: str, environ: dict) -> bool:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin in allowed or origin == own

    sio = _OriginCheckedServer(async_mode="sanic", cors_allowed_origins=accepts, json=_EngineIOJson,
                               client_manager=manager)
    sio.packet_class = _SocketIOPacket  # AsyncServer gave its packets _EngineIOJson too
    return sio


class _OriginCheckingEngineIO(engineio.AsyncServer):
    """engine.io's origin check without its CORS headers: Rasa's CORS (--cors, the same
    widget origins) adds those to every response, and a second Access-Control-Allow-Origin
    makes browsers refuse the response (long-polling then fails)."""

    def _cors_headers(self, environ: dict) -> list:
        return []


class _OriginCheckedServer(AsyncServer):
    def _engineio_server_class(self) -> type:
        return _OriginCheckingEngineIO


def _metadata(value: Any) -> Optional[dict]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # "[[[[..." thousands deep raises RecursionError
            return None
    ok = isinstance(value, dict) and not nested_too_deep(value) and not metadata_too_large(value)
    return value if ok else None


# How long a reply waits for a WebSocket's writer to take its message (a stalled client's
# writer may not): the turn goes on after it, the message stays queued.
WRITE_WAIT_S = 0.25


async def written(sio: AsyncServer, room: Text, namespace: Text = "/") -> None:
    """Return once the messages emitted to `room` have left this process on WebSocket.

    `sio.emit` only queues a packet; engine.io's writer takes it through `asyncio.wait_for`,
    a few loop iterations later, while the turn goes on without yielding into the next
    policy prediction and the tracker save. So the last message of every action reached the
    visitor only when the whole turn was done (a wine card 14-20 ms after its own text, at one
    user). The writer takes the queued packets and writes them in one step (Sanic writes the
    frame before it awaits), so the queue's `join()` returning means the bytes are out.
    Long-polling clients are left alone: their next GET takes the packets whenever it comes.
    """
    if namespace not in sio.manager.rooms:
        return
    queues = []
    for _, eio_sid in sio.manager.get_participants(namespace, room):
        socket = sio.eio.sockets.get(eio_sid)
        if socket is not None and socket.upgraded and not socket.closed:
            queues.append(socket.queue.join())
    if queues:
        try:
            await asyncio.wait_for(asyncio.gather(*queues), WRITE_WAIT_S)
        except asyncio.TimeoutError:
            log.debug("socket.io: a WebSocket writer did not take a message within %s s", WRITE_WAIT_S)


class _Output(SocketIOOutput):
    """Rasa's socket.io output, with custom payloads (wine cards) sent as {"custom": payload},
    and every message written to the visitor's WebSocket before the turn goes on (`written`).

    Rasa's send_custom_json passes the payload's keys to sio.emit as arguments: anything but
    {"data": ...} raised a TypeError and the visitor got nothing.
    """

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        await super()._send_message(socket_id, response)
        await written(self.sio, socket_id)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class SafeSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = socketio_server(widget_origins(), client_manager())
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        async def tell(sid: Text, text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        self.sessions = WidgetSessions(widget_key())
        # POST /webhooks/socketio/feedback: the widget's thumbs, kept under the conversation
        add_vote_route(webhook, conversation=lambda given: self.sessions.opens(given) or
                       (given if legacy_id(given) else None))

        # Handlers take *_ : a client may send any number of arguments with an event (a client
        # can even emit "connect"), and a TypeError would kill the handler without an answer.
        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Optional[Dict] = None, auth: Optional[Dict] = None,
                          *_: Any) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        # A connection is in one conversation's room at a time: a new session_request (the widget's
        # "new conversation") leaves the previous room. One connection used to stay in every room it
        # asked for and hear the replies of any number of conversations. The room is kept in the
        # connection's socket.io session, which only a real disconnect ends (a client can emit an
        # event named "disconnect" itself).
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None, *_: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            conversation = await self._conversation(sid, clean_sender(requested) if requested else None)
            session_id = self.sessions.bearer(conversation)
            async with sio.session(sid, namespace=self.namespace) as connection:
                previous = connection.get("conversation")
                if self.session_persistence:
                    if previous is not None and previous != conversation:
                        sio.leave_room(sid, previous, namespace=self.namespace)
                    sio.enter_room(sid, conversation, namespace=self.namespace)
                connection["conversation"] = conversation
                connection["session_id"] = session_id
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict):
                await tell(sid, render("utter_web_unreadable"))
                return
            if self.session_persistence:
                # only into the conversation this connection asked for and was confirmed: a message
                # naming another id (a phone number, another visitor's) never reaches that one
                connection = await sio.get_session(sid, namespace=self.namespace)
                sender_id = connection.get("conversation")
                if sender_id is None or clean_sender(data.get("session_id")) != connection.get("session_id"):
                    await tell(sid, render("utter_web_session_expired"))
                    return
            else:
                sender_id = sid
            metadata = _metadata(data.get(self.metadata_key))
            metadata = exchange(metadata, sender_id, self.name())  # the website's token: a proof for this chat
            if metadata is None:
                await tell(sid, render("utter_web_bad_metadata"))
                return
            try:
                text = prepare_message(data.get("message"))
            except RejectedMessage as rejected:
                # an empty text is how some widgets open (rasa-webchat without an initPayload): no answer
                if rejected.status == 413:
                    await tell(sid, render("utter_web_too_long"))
                elif not isinstance(data.get("message"), str):
                    await tell(sid, render("utter_web_unreadable"))
                return
            if looks_like_card_number(text):   # never stored nor sent on: said where a card goes instead
                await tell(sid, CARD_TEXT)
                return
            if await self._flooded(sid, sender_id):
                await tell(sid, LIMITED_TEXT)
                return
            output = _Output(sio, self.bot_message_evt)
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(),
                                             metadata=metadata))

        return webhook

    async def _conversation(self, sid: Text, requested: Optional[str]) -> str:
        """The conversation a session_request opens: the one its session id was issued for, an id the
        widget chose itself before ids were issued (`legacy_id`) if only the web chat wrote to it, or
        else a new one."""
        conversation = self.sessions.opens(requested)
        agent = self._agent(sid)
        if conversation is not None:
            if await held_elsewhere(agent, conversation, self.name()):  # never so, unless the key leaked
                conversation = None
        elif requested and legacy_id(requested) and await channels_written(agent, requested) == {self.name()}:
            conversation = requested
        elif requested:
            log.info("socket.io: a session id the server did not issue was presented: new conversation")
        return conversation or self.sessions.new_conversation()

    def _agent(self, sid: Text) -> Any:
        request = (self.sio.get_environ(sid, self.namespace) or {}).get("sanic.request")
        return getattr(getattr(getattr(request, "app", None), "ctx", None), "agent", None)

    async def _flooded(self, sid: Text, sender_id: Text) -> bool:
        request = (self.sio.get_environ(sid, self.namespace) or {}).get("sanic.request")
        address = client_address(request.ip, request.headers) if request is not None else None
        return (await flood_guard().check(self.name(), sender_id, address)).limited
