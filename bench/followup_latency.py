"""Follow-up turns against first questions (issue 9: "a follow-up turn costs no more than a first
question, p95 within 1.2x").

Each round is a new conversation on the assistant: a first question, then a follow-up that needs
the subject kept from it ("how much is it?", "which one is cheaper?", "what about december 27?").
Both are timed through REST. The vanilla `rasa init` bot, served by the same Rasa in the same run,
gives the framework's own cost of a second turn beside it. Writes bench/results/followup_latency.json.
"""
from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import VanillaBot, summarise, write_result
from tests.integration.stack import Stack, free_port

ROUNDS = 20  # per pair; 5 pairs -> 100 first questions and 100 follow-ups
PAIRS = [
    ("what's your best red?", "how much is it?"),
    ("what's the difference between the jumper and grand prix clubs?", "which one is cheaper?"),
    ("are you open on december 24?", "what about december 27?"),
    ("how much is the reserve cab franc?", "sorry, I meant the farmhouse one"),
    ("tell me about the farmhouse chardonnay", "what goes with it?"),
]
VANILLA_PAIR = ("hello", "I am feeling great")


def timed_pair(say, first: str, follow: str) -> tuple[float, float]:
    """Times one new conversation's first question and its follow-up.

    Returns: (first seconds, follow-up seconds).
    """
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    say(sender, first)
    middle = time.perf_counter()
    say(sender, follow)
    return middle - started, time.perf_counter() - middle


def measure(say, pairs: list[tuple[str, str]], rounds: int) -> dict:
    firsts, follows = [], []
    for _ in range(rounds):
        for first, follow in pairs:
            a, b = timed_pair(say, first, follow)
            firsts.append(a)
            follows.append(b)
    out = {"first": summarise(firsts), "follow_up": summarise(follows)}
    out["ratio_p95"] = round(out["follow_up"]["p95_ms"] / out["first"]["p95_ms"], 2)
    out["ratio_p50"] = round(out["follow_up"]["p50_ms"] / out["first"]["p50_ms"], 2)
    return out


def main() -> int:
    results: dict = {"rounds_per_pair": ROUNDS, "pairs": [list(p) for p in PAIRS], "target_ratio_p95": 1.2}
    vanilla = VanillaBot(free_port()).start()
    try:
        for _ in range(5):
            vanilla.say("warm", "hello")
        results["vanilla"] = measure(vanilla.say, [VANILLA_PAIR], ROUNDS * len(PAIRS))
    finally:
        vanilla.stop()
    stack = Stack(Path(tempfile.mkdtemp(prefix="milea-bench-"))).start()
    try:
        for first, follow in PAIRS:  # warm every code path once
            timed_pair(stack.say, first, follow)
        results["assistant"] = measure(stack.say, PAIRS, ROUNDS)
    finally:
        stack.stop()
    path = write_result("followup_latency", results)
    print(f"{'':<12}{'first p50':>11}{'first p95':>11}{'follow p50':>12}{'follow p95':>12}{'p95 ratio':>11}")
    for name in ("vanilla", "assistant"):
        r = results[name]
        print(f"{name:<12}{r['first']['p50_ms']:>11}{r['first']['p95_ms']:>11}"
              f"{r['follow_up']['p50_ms']:>12}{r['follow_up']['p95_ms']:>12}{r['ratio_p95']:>11}")
    verdict = "within" if results["assistant"]["ratio_p95"] <= 1.2 else "OVER"
    print(f"assistant follow-up p95 is {verdict} 1.2x its first question (written to {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
