"""rasa_tuning/speedups.py `compute_past_states_once_per_prediction`: the policies of one prediction
share one replay of the conversation, and still see exactly what Rasa computes: the same states
for the same events and arguments, a new replay after any new event, and a copy of their own
(TED's featurizer edits the last state it gets). Runs in the Rasa venv, on the project's domain."""
from __future__ import annotations

from tests.unit.rasa_side import run_in_rasa_venv

SNIPPET = """
import json
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

domain = Domain.load("domain.yml")
rasas = Domain.states_for_tracker_history
replays = []

def counted(self, tracker, *args, **kwargs):
    replays.append(len(tracker.events))
    return rasas(self, tracker, *args, **kwargs)

Domain.states_for_tracker_history = counted
from rasa_tuning import speedups

speedups.compute_past_states_once_per_prediction()  # wraps the counted method, as it wraps Rasa's in the server

tracker = DialogueStateTracker.from_events("visitor", [
    ActionExecuted("action_session_start"), ActionExecuted("action_listen"),
    UserUttered("when are you open", {"name": "ask_hours", "confidence": 0.9}),
    ActionExecuted("action_tell_hours"), SlotSet("subject_kind", "wine"), ActionExecuted("action_listen"),
    UserUttered("and saturday?", {"name": "ask_hours", "confidence": 0.8}),
], slots=domain.slots)
rule_only = {"slots": ["form_blocked"], "loops": []}
arguments = [{}, {"ignore_rule_only_turns": True, "rule_only_data": rule_only}, {"omit_unset_slots": True}]
same = []
for kwargs in arguments:
    first = domain.states_for_tracker_history(tracker, **kwargs)
    first[-1].pop("user", None)  # a caller edits its copy
    again = domain.states_for_tracker_history(tracker, **kwargs)
    same.append(again == rasas(domain, tracker, **kwargs) and "user" in again[-1])
replays_before = len(replays)
tracker.update(ActionExecuted("action_tell_hours"))
after = domain.states_for_tracker_history(tracker)
print(json.dumps({"same": same, "replays": replays_before, "replayed_after_event": len(replays) - replays_before,
                  "after_matches": after == rasas(domain, tracker), "states": len(after)}))
"""


def test_one_replay_per_arguments_and_the_same_states_as_rasa() -> None:
    seen = run_in_rasa_venv(SNIPPET)
    assert seen["same"] == [True, True, True]
    assert seen["replays"] == 3  # six asks, three sets of arguments
    assert seen["replayed_after_event"] == 1
    assert seen["after_matches"]
