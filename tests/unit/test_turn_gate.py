"""rasa_tuning/turn_gate.py: turns go into the message processor `width` at a time, first come first
served; a turn inside for too long stops counting; a turn cancelled while waiting or just as it
was let in gives its place back; and Rasa's MessageProcessor.handle_message goes through it."""
from __future__ import annotations

import asyncio

import pytest

from rasa_tuning.turn_gate import DEFAULT_WIDTH, TurnGate, width_from_env
from tests.unit.rasa_side import run_in_rasa_venv


async def _turn(gate: TurnGate, name: str, log: list, inside: list, release: asyncio.Event) -> None:
    token = await gate.enter()
    log.append(name)
    inside.append(gate.inside)
    try:
        await release.wait()
    finally:
        gate.leave(token)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_turns_go_in_first_come_first_served_and_never_more_than_width_at_once() -> None:
    async def scenario() -> tuple[list, list, list]:
        gate = TurnGate(2, stale_after_s=30)
        releases = {name: asyncio.Event() for name in "abcde"}
        log: list = []
        inside: list = []
        tasks = []
        for name in "abcde":
            tasks.append(asyncio.create_task(_turn(gate, name, log, inside, releases[name])))
            await _settle()
        first_in = list(log)
        for name in "bacde":  # b finishes before a: the next in line goes in, not the last
            releases[name].set()
            await _settle()
        await asyncio.gather(*tasks)
        return first_in, log, inside

    first_in, order, inside = asyncio.run(scenario())
    assert first_in == ["a", "b"]
    assert order == ["a", "b", "c", "d", "e"]
    assert max(inside) == 2


def test_a_turn_inside_too_long_stops_counting() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        gate = TurnGate(1, stale_after_s=0.05)
        stuck = await gate.enter()  # never leaves in time (a hung call)
        second = asyncio.create_task(gate.enter())
        await asyncio.sleep(0.01)
        waited_at_first = not second.done()
        token = await asyncio.wait_for(second, 2)
        gate.leave(token)
        gate.leave(stuck)
        return waited_at_first, token is not stuck, gate.inside

    waited_at_first, own_token, inside_after = asyncio.run(scenario())
    assert waited_at_first
    assert own_token
    assert inside_after == 0


def test_a_stale_holder_does_not_make_the_gate_spin() -> None:
    async def scenario() -> tuple[int, bool]:
        gate = TurnGate(1, stale_after_s=0.05)
        admits = 0
        admit = gate._admit

        def counted() -> None:
            nonlocal admits
            admits += 1
            admit()

        gate._admit = counted  # type: ignore[method-assign]
        stale = await gate.enter()
        await asyncio.sleep(0.06)
        young = await gate.enter()  # the first one no longer counts
        waiting = asyncio.create_task(gate.enter())
        await asyncio.sleep(0.03)  # the young one is still young: the third waits, the gate rests
        rested = admits
        token = await asyncio.wait_for(waiting, 2)  # let in once the young one goes stale
        for held in (stale, young, token):
            gate.leave(held)
        return rested, waiting.done()

    rested, let_in = asyncio.run(scenario())
    assert rested <= 2
    assert let_in


def test_a_turn_cancelled_while_waiting_or_just_let_in_gives_its_place_back() -> None:
    async def scenario() -> tuple[int, int, int]:
        gate = TurnGate(1, stale_after_s=30)
        first = await gate.enter()
        waiting = asyncio.create_task(gate.enter())
        let_in = asyncio.create_task(gate.enter())
        await _settle()
        waiting.cancel()  # cancelled in the line: skipped
        await _settle()
        gate.leave(first)  # lets `let_in` in; it is cancelled before it runs again
        let_in.cancel()
        await _settle()
        after_cancels = gate.inside
        last = await asyncio.wait_for(gate.enter(), 1)  # the place is free, not lost
        inside = gate.inside
        gate.leave(last)
        return after_cancels, inside, gate.waiting

    after_cancels, inside, waiting = asyncio.run(scenario())
    assert after_cancels == 0
    assert inside == 1
    assert waiting == 0


def test_width_from_the_environment() -> None:
    assert width_from_env({}) == DEFAULT_WIDTH
    assert width_from_env({"TURNS_AT_ONCE": " 3 "}) == 3
    assert width_from_env({"TURNS_AT_ONCE": "0"}) == 0
    for bad in ("two", "-1", "1.5"):
        with pytest.raises(ValueError, match="TURNS_AT_ONCE"):
            width_from_env({"TURNS_AT_ONCE": bad})
    with pytest.raises(ValueError):
        TurnGate(0)


SNIPPET = """
import asyncio, json, sys
from rasa.core.processor import MessageProcessor

width = int(sys.argv[1])
inside, most, order = 0, 0, []

async def handle_message(self, message):  # stands in for Rasa's turn: it awaits in the middle
    global inside, most
    inside += 1
    most = max(most, inside)
    order.append(message)
    await asyncio.sleep(0.02)
    inside -= 1
    return [message]

MessageProcessor.handle_message = handle_message
from rasa_tuning import turn_gate
turn_gate.gate_the_message_processor(width)
turn_gate.gate_the_message_processor(width)  # applying twice is harmless

async def main():
    replies = await asyncio.gather(*(MessageProcessor.handle_message(None, n) for n in range(6)))
    return replies

replies = asyncio.run(main())
print(json.dumps({"most": most, "order": order, "replies": replies,
                  "gated": MessageProcessor.handle_message is not handle_message}))
"""


@pytest.mark.parametrize("width,most", [(1, 1), (2, 2), (0, 6)])
def test_rasa_message_processor_goes_through_the_gate(width: int, most: int) -> None:
    seen = run_in_rasa_venv(SNIPPET, str(width))
    assert seen["most"] == most
    assert seen["order"] == list(range(6))
    assert seen["replies"] == [[n] for n in range(6)]
    assert seen["gated"] == (width > 0)
