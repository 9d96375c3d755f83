"""rasa_tuning/schema_check.py against jsonschema, on Rasa's own schema of an action server reply:
thousands of replies (every event kind, valid and broken in every property, plus random values)
and not one that the compiled checks accept while jsonschema refuses. It must also vouch for the
replies our actions really send, or it would save nothing. Runs in the Rasa venv (its schema)."""
from __future__ import annotations

from tests.unit.rasa_side import run_in_rasa_venv

SNIPPET = r"""
import copy, json, random
from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa_tuning.schema_check import compile_schema

schema = RemoteAction.action_response_format_spec()
validator = validators.validator_for(schema)(schema)
vouches = compile_schema(schema)
alternatives = schema["properties"]["events"]["items"]["oneOf"]
kinds = [a["properties"]["event"]["const"] for a in alternatives]
rng = random.Random(13)
VALUES = [None, True, False, 0, 1, -2, 1.0, 2.5, float("nan"), "", "x", "slot", [], [1], ["a"], {}, {"name": "x"},
          {"entity": "wine", "value": "rose"}, [{"entity": "wine", "value": "rose"}], [{"entity": 1}],
          {"name": "greet", "confidence": 0.9}, {"name": 3}, [{"name": "greet", "confidence": "high"}],
          {"intent": {"name": "ask_hours"}, "entities": [], "text": "hi"}, {"intent": {"name": 1}}]
PROPERTIES = sorted({p for a in alternatives for p in a.get("properties", {})} | {"timestamp", "metadata", "event"})

def event(kind):
    e = {"event": kind, "timestamp": 1700000000.5}
    if kind == "slot":
        e.update(name="subject_kind", value="wine")
    if kind == "entities":
        e["entities"] = [{"entity": "wine", "value": "rose", "start": 0, "end": 4}]
    if kind == "user":
        e.update(text="hi", parse_data={"intent": {"name": "greet", "confidence": 0.9}, "entities": []})
    if kind == "action":
        e.update(name="action_listen", policy=None, confidence=1.0)
    return e

ours = {"events": [event("slot"), event("followup"), event("active_loop")],
        "responses": [{"text": "We open at 11.", "buttons": [], "custom": {}, "image": None, "response": "utter_x"}]}
cases = [ours, {}, {"events": []}, {"responses": []}, [], "x", None, {"events": {}}, {"events": [1]},
         {"responses": [1]}, {"events": [{"event": ["slot"]}]}, {"events": [{"event": {"a": 1}}]},
         {"events": [{"name": "x", "value": 1}]}, {"events": [{"event": "no_such_event"}]}]
for kind in kinds:
    good = event(kind)
    cases.append({"events": [good]})
    for prop in PROPERTIES:
        for value in VALUES:
            changed = dict(good)
            changed[prop] = value
            cases.append({"events": [changed]})
        dropped = dict(good)
        dropped.pop(prop, None)
        cases.append({"events": [dropped]})
for _ in range(3000):
    events = []
    for _ in range(rng.randint(0, 3)):
        e = event(rng.choice(kinds + ["nope", 5]))
        for _ in range(rng.randint(0, 3)):
            e[rng.choice(PROPERTIES)] = copy.deepcopy(rng.choice(VALUES))
        events.append(e)
    reply = {"events": events}
    if rng.random() < 0.5:
        reply["responses"] = [rng.choice([{"text": "x"}, {}, 1, "x", None])]
    cases.append(reply)

lenient = [c for c in cases if vouches(c) and not validator.is_valid(c)]
print(json.dumps({"cases": len(cases), "lenient": [json.dumps(c, default=str)[:300] for c in lenient[:5]],
                  "valid": sum(validator.is_valid(c) for c in cases), "vouched": sum(bool(vouches(c)) for c in cases),
                  "ours": vouches(ours), "every_kind": all(vouches({"events": [event(k)]}) for k in kinds)}))
"""


def test_never_accepts_what_jsonschema_refuses_and_vouches_for_real_replies() -> None:
    seen = run_in_rasa_venv(SNIPPET)
    assert seen["cases"] > 5000
    assert seen["lenient"] == []
    assert seen["ours"] and seen["every_kind"]
    assert seen["vouched"] > 0.9 * seen["valid"]  # the fast path is the common path
