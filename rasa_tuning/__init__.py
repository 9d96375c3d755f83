"""Changes to how the Rasa server runs, applied once by its entry point (scripts/rasa_server.py).

Runs in the Rasa server's venv (.venv/rasa) only; importing this package changes nothing.
- speedups: work Rasa redoes on every message although its result never changes (the action
  reply schema checked once, connections to the action server kept, past states replayed once
  per prediction); results and errors stay Rasa's.
- ted_when_needed: TED predicts only when its prediction can win.
- turn_gate: turns enter the message processor a few at a time, first come first served
  (TURNS_AT_ONCE); only the order in which turns use the event loop changes.
Measured with bench/load.py beside vanilla Rasa (bench/results/load-tail.md).
"""
from __future__ import annotations

from typing import Mapping


def apply(env: Mapping[str, str]) -> None:
    """Every change, each applied at most once however often this is called.

    Args: env: the server's environment (TURNS_AT_ONCE sets the gate's width).
    """
    from rasa_tuning import speedups, turn_gate
    from rasa_tuning.ted_when_needed import defer_ted_until_needed

    speedups.validate_action_replies_with_one_validator()
    speedups.reuse_endpoint_connections()
    speedups.compute_past_states_once_per_prediction()
    defer_ted_until_needed()
    turn_gate.gate_the_message_processor(turn_gate.width_from_env(env))
