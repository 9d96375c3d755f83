"""Single-user REST latency: greeting, hours question and knowledge question on
the assistant, beside a vanilla `rasa init` bot served by the same Rasa in the
same run. Writes bench/results/rest_latency.json."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.common import VanillaBot, summarise, timed, write_result
from tests.integration.stack import Stack, free_port

N = 60
QUESTIONS = {
    "greeting": "hello",
    "hours": "are you open on sunday?",
    "knowledge": "can i bring my dog?",
    "wine": "how much is the reserve cabernet franc?",
}


def main() -> int:
    results: dict = {"n_per_turn": N}
    vanilla = VanillaBot(free_port()).start()
    try:
        for _ in range(5):
            vanilla.say("warm", "hello")
        results["vanilla_greeting"] = summarise(timed(lambda: vanilla.say("bench-v", "hello"), N))
    finally:
        vanilla.stop()
    stack = Stack(Path(tempfile.mkdtemp(prefix="milea-bench-"))).start()
    try:
        for text in QUESTIONS.values():
            for _ in range(3):
                stack.say("warm", text)
        for name, text in QUESTIONS.items():
            # A new sender per turn type keeps each measurement a single-turn conversation.
            results[name] = summarise(timed(lambda: stack.say(f"bench-{name}", text), N))
    finally:
        stack.stop()
    results["ratio_greeting_to_vanilla_p50"] = round(results["greeting"]["p50_ms"] / results["vanilla_greeting"]["p50_ms"], 2)
    results["ratio_knowledge_p95_to_greeting_p95"] = round(results["knowledge"]["p95_ms"] / results["greeting"]["p95_ms"], 2)
    path = write_result("rest_latency", results)
    print(f"{'turn':<18}{'p50 ms':>10}{'p95 ms':>10}")
    for key in ("vanilla_greeting", *QUESTIONS):
        print(f"{key:<18}{results[key]['p50_ms']:>10}{results[key]['p95_ms']:>10}")
    print(f"knowledge p95 / greeting p95 = {results['ratio_knowledge_p95_to_greeting_p95']}  (written to {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
