"""Turns go into Rasa's message processor a few at a time, in the order they came.

The Rasa server runs every turn on one event loop. A turn that calls the action server waits
for its reply, and under load that reply is picked up only after the CPU bursts (NLU and
policies, 10-20 ms each) of every turn that came in meanwhile. So at 20 busy users an action
turn took twice as long as a greeting (REST p95: greeting 316 ms, action turns 620-650 ms),
although both cost the same CPU, and each further call (a second message on socket.io, a
form's validation) added another wait. With at most `width` turns inside, a reply waits behind
at most that many bursts. The other turns wait at the gate, first come first served. A turn
then takes its place in the line plus its own work, whatever it calls.

A turn inside for longer than `stale_after_s` (an LLM answer, a database that hangs) stops
counting: the next turn goes in. A slow call never holds up the other conversations for longer
than that.

Measured with bench/load.py at 20 users, beside vanilla Rasa (bench/results/load-tail.md).
"""
from __future__ import annotations

import asyncio
import weakref
from collections import deque
from typing import Any, Deque, Dict, Mapping, Optional

# Turns inside at once: 2 keeps the loop busy while one waits for the action server.
DEFAULT_WIDTH = 2
# Longer than a turn takes inside at 20 users (40-60 ms), short enough not to be felt.
STALE_AFTER_S = 0.25


class TurnGate:
    """At most `width` holders younger than `stale_after_s`; the others wait first come first served.

    One gate per event loop (its futures and clock are the loop's).
    """

    def __init__(self, width: int, stale_after_s: float = STALE_AFTER_S) -> None:
        if width < 1:
            raise ValueError("a gate needs room for one turn at least")
        self.width, self.stale_after_s = width, stale_after_s
        self._holders: Dict[object, float] = {}  # token -> when it went in (loop time)
        self._waiting: Deque[asyncio.Future] = deque()
        self._recheck: Optional[asyncio.TimerHandle] = None

    @property
    def inside(self) -> int:
        return len(self._holders)

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiting)

    def _young(self, now: float) -> list:
        """When each holder that still counts went in."""
        return [since for since in self._holders.values() if now - since < self.stale_after_s]

    def _has_room(self, now: float) -> bool:
        return len(self._young(now)) < self.width

    def _let_in(self, now: float) -> object:
        token = object()
        self._holders[token] = now
        return token

    def _admit(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._waiting and self._has_room(now):
            waiter = self._waiting.popleft()
            if not waiter.done():  # a turn cancelled while waiting left its future cancelled
                waiter.set_result(self._let_in(now))
        if self._recheck is not None:
            self._recheck.cancel()
            self._recheck = None
        young = self._young(now)
        if self._waiting and young:  # room comes when a holder leaves or the oldest young one goes stale
            # a millisecond late: asyncio may run a timer a hair early, when it would still be young
            self._recheck = loop.call_at(min(young) + self.stale_after_s + 0.001, self._admit)

    async def enter(self) -> object:
        """Wait for a place; returns the token that `leave` takes."""
        loop = asyncio.get_running_loop()
        if not self._waiting and self._has_room(loop.time()):
            return self._let_in(loop.time())
        waiter = loop.create_future()
        self._waiting.append(waiter)
        self._admit()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # let in just as it was cancelled
                self.leave(waiter.result())
            raise

    def leave(self, token: object) -> None:
        self._holders.pop(token, None)
        self._admit()


def width_from_env(env: Mapping[str, str]) -> int:
    """TURNS_AT_ONCE: how many turns the processor runs at once; 0 turns the gate off."""
    raw = (env.get("TURNS_AT_ONCE") or "").strip()
    try:
        width = int(raw) if raw else DEFAULT_WIDTH
    except ValueError:
        raise ValueError(f"TURNS_AT_ONCE must be a whole number, not {raw!r}") from None
    if width < 0:
        raise ValueError(f"TURNS_AT_ONCE must be 0 (no gate) or more, not {width}")
    return width


def gate_the_message_processor(width: int) -> None:
    """Every `MessageProcessor.handle_message` goes through this loop's gate (none if width is 0).

    Agent.handle_message takes the conversation's lock first, so a turn waits at the gate
    holding its own conversation only.
    """
    from rasa.core.processor import MessageProcessor

    handle = MessageProcessor.handle_message
    if width <= 0 or getattr(handle, "_milea_gated", False):
        return
    gates: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnGate]" = weakref.WeakKeyDictionary()

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        loop = asyncio.get_running_loop()
        gate = gates.get(loop)
        if gate is None:
            gate = gates[loop] = TurnGate(width)
        token = await gate.enter()
        try:
            return await handle(self, message)
        finally:
            gate.leave(token)

    handle_message._milea_gated = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message

