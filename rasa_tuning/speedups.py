"""Work the Rasa server does on every message although its result never changes or is never used.

Applied by rasa_tuning.apply() in the Rasa server's entry point only. Each change keeps
Rasa's behaviour, results and errors exactly; it only stops redoing the constant part.
Applying it twice is harmless.

Measured with bench/load.py and py-spy on the Rasa server under 20 concurrent users.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import logging
import weakref
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_tuning.schema_check import compile_schema

log = logging.getLogger(__name__)


def validate_action_replies_with_one_validator() -> None:
    """Check every action server reply against Rasa's schema with a validator built once.

    Rasa's RemoteAction._validate_action_result calls `jsonschema.validate(reply, schema)`,
    which first checks the schema itself (constant, listing every event type) against the
    JSON Schema 2020-12 meta-schema: ~34 ms of the event loop per custom action call, a
    third of the Rasa server's CPU under load, against ~0.4 ms to validate the reply.
    Here the schema is checked once and each reply is validated by the same validator
    class against the same schema; a reply that fails goes to Rasa's own method, so the
    error raised and its message are exactly Rasa's. A subclass with its own schema keeps
    Rasa's method. Before the validator, the schema compiled into plain checks
    (rasa_tuning/schema_check.py) accepts the replies it can vouch for, ~1 ms less per call;
    what it does not accept goes to Rasa's validator.
    """
    original = RemoteAction._validate_action_result
    if getattr(original, "_milea_one_validator", False):
        return
    from jsonschema import validators

    spec = RemoteAction.action_response_format_spec
    schema = spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    vouches = compile_schema(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        if type(self).action_response_format_spec is not spec:
            return original(self, result)
        if vouches(result):
            return True
        if not validator.is_valid(result):
            return original(self, result)  # raises Rasa's ValidationError
        return True

    _validate_action_result._milea_one_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result


# Idle connections are dropped well before the action server's (Sanic: 5 s, nginx: 75 s) so that
# a request never goes out on a connection the server is closing.
KEEPALIVE_S = 2.0


def reuse_endpoint_connections() -> None:
    """Keep connections to the action server (and any other Rasa endpoint) open between calls.

    Rasa's EndpointConfig.request opens a new aiohttp ClientSession, and so a new TCP
    connection, for every custom action call and closes it afterwards. Besides ~0.5 ms of
    CPU, the connect is one more point where the turn gives up the event loop and queues
    behind every other message being processed: under 20 concurrent users an action turn
    took 4-6 times as long as a greeting, and about twice as long with connections reused
    (bench/load.py, REST).
    Here `session()` lends one long-lived session per event loop and endpoint, made with
    Rasa's own headers, auth and timeout, whose connector keeps idle connections KEEPALIVE_S
    and has no connection limit (Rasa makes a connection per call and sets none). Requests,
    responses, timeouts and errors are Rasa's, unchanged.
    """
    original = EndpointConfig.session
    if getattr(original, "_milea_shared", False):
        return
    shared: "dict[tuple, aiohttp.ClientSession]" = {}

    @atexit.register
    def _close_connections() -> None:  # without "Unclosed client session" at shutdown
        for lent in shared.values():
            if not lent.closed and lent.connector is not None:
                lent.connector.close()

    class _Lent:
        """`async with config.session() as session`: the shared session, left open at the end."""

        def __init__(self, config: EndpointConfig) -> None:
            self.config = config

        async def __aenter__(self) -> aiohttp.ClientSession:
            config = self.config
            key = (asyncio.get_running_loop(), config.url, repr(sorted((config.headers or {}).items())),
                   repr(config.basic_auth))
            session = shared.get(key)
            if session is None or session.closed:
                template = original(config)  # Rasa's headers, auth and timeout
                session = shared[key] = aiohttp.ClientSession(
                    headers=template.headers, auth=template.auth, timeout=template.timeout,
                    cookie_jar=aiohttp.DummyCookieJar(),  # a fresh session per call kept no cookies either
                    connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S))
                await template.close()
            return session

        async def __aexit__(self, *exc: object) -> bool:
            return False

    def session(self: EndpointConfig) -> _Lent:
        return _Lent(self)

    session._milea_shared = True  # type: ignore[attr-defined]
    EndpointConfig.session = session


# Trackers whose past states are kept: the ones being predicted for right now (a turn's
# prediction runs without yielding, so one would do; a few cover turns that interleave).
STATES_KEPT_FOR = 8


def compute_past_states_once_per_prediction() -> None:
    """Replay a conversation into its past states once per prediction, not once per policy.

    Each prediction asks `Domain.states_for_tracker_history` about the same tracker 3-4 times
    (TED and the memoization policy with rule-only turns left out, the rule policy twice
    without), and each call replays every event of the conversation: 7 replays per one-action
    turn, ~10 % of a turn's CPU for a 10-turn conversation, growing with its length.
    Here the states are kept per tracker, arguments and the exact event objects it holds, so
    any new event (the action's own, a slot set) means a new replay. Callers get their own
    copy (TED's featurizer removes the text or intent from the last state it is given).
    Trackers of another class (training's TrackerWithCachedStates keeps its own) go to Rasa.
    """
    original = Domain.states_for_tracker_history
    if getattr(original, "_milea_once", False):
        return
    kept: "OrderedDict[int, tuple]" = OrderedDict()  # id(tracker) -> (tracker ref, domain, events, states by args)

    def states_for_tracker_history(self: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                                   ignore_rule_only_turns: bool = False,
                                   rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
        if type(tracker) is not DialogueStateTracker:
            return original(self, tracker, omit_unset_slots=omit_unset_slots,
                            ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
        events = tuple(tracker.events)
        entry = kept.get(id(tracker))
        if (entry is None or entry[0]() is not tracker or entry[1] is not self or len(entry[2]) != len(events)
                or any(was is not now for was, now in zip(entry[2], events))):
            entry = kept[id(tracker)] = (weakref.ref(tracker), self, events, {})
            while len(kept) > STATES_KEPT_FOR:
                kept.popitem(last=False)
        kept.move_to_end(id(tracker))
        key = (omit_unset_slots, ignore_rule_only_turns,
               json.dumps(rule_only_data, sort_keys=True, default=str) if rule_only_data is not None else None)
        states = entry[3].get(key)
        if states is None:
            states = entry[3][key] = original(self, tracker, omit_unset_slots=omit_unset_slots,
                                              ignore_rule_only_turns=ignore_rule_only_turns,
                                              rule_only_data=rule_only_data)
        # A state maps a part (user, prev_action, slots, active_loop) to a dict of strings and tuples.
        return [{part: dict(sub_state) for part, sub_state in state.items()} for state in states]

    states_for_tracker_history._milea_once = True  # type: ignore[attr-defined]
    Domain.states_for_tracker_history = states_for_tracker_history

