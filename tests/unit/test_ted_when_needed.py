"""rasa_tuning/ted_when_needed.py: TED runs only for the predictions it can win, and the ensemble
picks exactly what it picks when TED always runs.

Every action of every test story (tests/test_*.yml, the conversations `rasa test` checks), and
of the same stories with user messages swapped for random intents (paths no rule covers), is
predicted twice by the trained model, through Rasa's own processor and graph: with the
shortcut, and with TED forced to run. Action, policy, confidence and events must be the same
each time, and the shortcut must have been taken (or the test would prove nothing)."""
from __future__ import annotations


import pytest

from tests.unit.rasa_side import run_in_rasa_venv

from core.paths import ROOT
MODEL = ROOT / "models" / "milea.tar.gz"

SNIPPET = """
import asyncio, json, logging, random
logging.disable(logging.WARNING)
from rasa.core.agent import Agent
from rasa.core.test import _create_data_generator
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_tuning import ted_when_needed

ted_when_needed.defer_ted_until_needed()
ted_when_needed.defer_ted_until_needed()  # applying twice is harmless
certain_without = ted_when_needed.certain_without
shortcuts = []

def counted(*args):
    taken = certain_without(*args)
    shortcuts.append(taken)
    return taken

ted_when_needed.certain_without = counted

def always_ted(*args):
    return False

def described(prediction, domain):
    return {"action": domain.action_names_or_texts[prediction.max_confidence_index],
            "policy": prediction.policy_name, "confidence": round(prediction.max_confidence, 6),
            "events": [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in prediction.events], "e2e": prediction.is_end_to_end_prediction,
            "no_user": prediction.is_no_user_prediction}

async def main():
    agent = Agent.load("models/milea.tar.gz")
    processor, domain = agent.processor, agent.domain
    trackers = _create_data_generator("tests", agent, use_conversation_test_files=True).generate_story_trackers()
    # Each story also with every other user message swapped for a random intent: paths no rule
    # or story covers, where TED has to decide.
    chance = random.Random(13)
    intents = sorted(domain.intents)
    def strayed(events):
        return [UserUttered(e.text, {"name": chance.choice(intents), "confidence": 1.0})
                if isinstance(e, UserUttered) and chance.random() < 0.5 else e for e in events]
    compared, differ = 0, []
    for story, events in [(t, list(t.events)) for t in trackers] + [(t, strayed(t.events)) for t in trackers]:
        partial = DialogueStateTracker.from_events(story.sender_id, events[:1], domain.slots)
        for event in events[1:]:
            if isinstance(event, ActionExecuted):
                ted_when_needed.certain_without = counted
                shortcut = described(processor._predict_next_with_tracker(partial), domain)
                ted_when_needed.certain_without = always_ted
                full = described(processor._predict_next_with_tracker(partial), domain)
                compared += 1
                if shortcut != full:
                    differ.append([story.sender_id, shortcut, full])
            partial.update(event)
    return {"stories": len(trackers), "compared": compared, "differ": differ[:5],
            "shortcuts": sum(shortcuts), "asked": len(shortcuts)}

print(json.dumps(asyncio.run(main())))
"""


def test_the_shortcut_picks_what_rasa_picks_on_every_test_story() -> None:
    if not MODEL.exists():
        pytest.skip("no trained model (make train)")
    seen = run_in_rasa_venv(SNIPPET, timeout=300)
    assert seen["stories"] > 20
    assert seen["compared"] > 100
    assert seen["differ"] == []
    assert seen["asked"] == seen["compared"]  # one TED decision per prediction
    assert 0 < seen["shortcuts"] < seen["asked"]  # both paths were taken
