"""Dialogue evaluation (`make eval`): whole conversations from tests/dialogues/*.yml
sent turn by turn through the REST channel of the running assistant, each
checked turn judged on what the customer sees.

Without --url it starts the whole stack the way `make run` does (offline: no LLM,
Commerce7 emulator, the clock pinned to a Friday afternoon) and stops it after.
Numbers go to bench/results/dialogues.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests
import yaml

from core.paths import ROOT

DIALOGUES = ROOT / "tests" / "dialogues"
RESULTS = ROOT / "bench" / "results" / "dialogues.json"
PINNED_NOW = "2026-11-27T14:00:00-05:00"   # a Friday afternoon, like the integration tests
# A dialogue with `customer: <email>` is the proven owner of that demo account, signed in on the website: each
# turn carries a customer token signed with this secret (the stack started here has it; with --url, the
# CUSTOMER_TOKEN_SECRET of the environment, and without one such dialogues are skipped).
EVAL_TOKEN_SECRET = "dialogue-eval-customer-token-secret"


def customer_token(email: str, secret: str) -> str:
    """A website token for the emulator's demo customer with this email (its ids are stable)."""
    from actions.identity import sign_token
    from commerce7_demo.emulator import sid
    return sign_token({"sub": sid("customer", email), "exp": time.time() + 3600}, secret)


def load(folder: Path = DIALOGUES) -> list[dict]:
    dialogues = []
    # a folder of rounds (tests/blind/round3/dialogues.yml, ...) is read whole
    for path in sorted(folder.rglob("*.yml")):
        for d in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("dialogues") or []:  # nlu.yml beside
            dialogues.append({**d, "file": str(path.relative_to(folder))})
    return dialogues


CHECKS = ("all", "any", "none", "buttons")   # a check of another name would pass silently: it is a problem


def judge(replies: list[dict], expect: dict) -> list[str]:
    """What is wrong with a reply (empty when it is right)."""
    text = " ".join(r.get("text") or "" for r in replies)
    low = text.casefold()
    buttons = [b for r in replies for b in r.get("buttons") or []]
    problems = [f"unknown check {key!r} (all, any, none, buttons)" for key in expect if key not in CHECKS]
    for fact in expect.get("all") or []:
        if str(fact).casefold() not in low:
            problems.append(f"missing {fact!r}")
    anyof = expect.get("any") or []
    if anyof and not any(str(f).casefold() in low for f in anyof):
        problems.append(f"none of {anyof!r}")
    for fact in expect.get("none") or []:
        if str(fact).casefold() in low:
            problems.append(f"says {fact!r}")
    if expect.get("buttons") is True and not buttons:
        problems.append("no buttons")
    return problems


def run_dialogue(say, dialogue: dict) -> dict:
    sender = f"eval-{uuid.uuid4().hex[:10]}"
    turns, timings = [], []
    for turn in dialogue["turns"]:
        started = time.perf_counter()
        replies = say(sender, turn["user"], dialogue.get("customer"))
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        if "expect" in turn:
            problems = judge(replies, turn["expect"])
            turns.append({"user": turn["user"], "ok": not problems, "problems": problems, "seconds": elapsed,
                          "reply": " | ".join(r.get("text") or "" for r in replies)})
    return {"name": dialogue["name"], "file": dialogue["file"], "tags": dialogue.get("tags") or [], "turns": turns,
            "ok": all(t["ok"] for t in turns), "first_s": timings[:1], "follow_up_s": timings[1:]}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


def summarise(results: list[dict]) -> dict:
    by_tag = defaultdict(lambda: {"dialogues": 0, "dialogues_ok": 0, "turns": 0, "turns_ok": 0})
    for r in results:
        for tag in ["ALL", *r["tags"]]:
            row = by_tag[tag]
            row["dialogues"] += 1
            row["dialogues_ok"] += r["ok"]
            row["turns"] += len(r["turns"])
            row["turns_ok"] += sum(t["ok"] for t in r["turns"])
    return dict(by_tag)


def print_table(summary: dict) -> None:
    print(f"{'tag':<16} {'dialogues':>9} {'all right':>9} {'turns':>6} {'right':>6} {'turn %':>7} {'dlg %':>6}")
    for tag in sorted(k for k in summary if k != "ALL") + ["ALL"]:
        r = summary[tag]
        print(f"{tag:<16} {r['dialogues']:>9} {r['dialogues_ok']:>9} {r['turns']:>6} {r['turns_ok']:>6} "
              f"{r['turns_ok'] / max(1, r['turns']):>7.3f} {r['dialogues_ok'] / max(1, r['dialogues']):>6.3f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="a running assistant (default: start one like `make run`)")
    parser.add_argument("--min-turns", type=float, default=0.0, help="bar for the share of checked turns right")
    parser.add_argument("--min-dialogues", type=float, default=0.0, help="bar for the share of dialogues all right")
    parser.add_argument("--show-failures", action="store_true")
    parser.add_argument("--dir", type=Path, default=DIALOGUES,
                        help="a folder of dialogue files (default tests/dialogues; e.g. a blind round's set)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the numbers go")
    args = parser.parse_args()
    dialogues = load(args.dir)
    stack = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        sys.path.insert(0, str(ROOT))
        from tests.integration.stack import Stack

        stack = Stack(Path(tempfile.mkdtemp(prefix="milea-dialogues-")),
                      {"MILEA_NOW": PINNED_NOW, "CUSTOMER_TOKEN_SECRET": EVAL_TOKEN_SECRET}).start()
        url = stack.url
    secret = EVAL_TOKEN_SECRET if stack is not None else os.environ.get("CUSTOMER_TOKEN_SECRET", "")
    if not secret:
        dialogues = [d for d in dialogues if not d.get("customer")]

    def say(sender: str, message: str, customer: str | None = None) -> list[dict]:
        body: dict = {"sender": sender, "message": message}
        if customer:
            body["metadata"] = {"customer_token": customer_token(customer, secret)}
        response = requests.post(f"{url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    try:
        results = [run_dialogue(say, d) for d in dialogues]
    finally:
        if stack is not None:
            stack.stop()
    summary = summarise(results)
    print_table(summary)
    total = summary["ALL"]
    turn_rate, dialogue_rate = total["turns_ok"] / total["turns"], total["dialogues_ok"] / total["dialogues"]
    first = p95([s for r in results for s in r["first_s"]])
    follow = p95([s for r in results for s in r["follow_up_s"]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "turns": total["turns"], "turns_right": total["turns_ok"], "turn_accuracy": round(turn_rate, 4),
        "dialogues": total["dialogues"], "dialogues_right": total["dialogues_ok"],
        "dialogue_accuracy": round(dialogue_rate, 4), "first_turn_p95_seconds": round(first, 3),
        "follow_up_p95_seconds": round(follow, 3), "by_tag": summary,
        "failures": [{"dialogue": r["name"], **t} for r in results for t in r["turns"] if not t["ok"]],
    }, indent=2) + "\n")
    print(f"checked turns right: {total['turns_ok']}/{total['turns']} ({turn_rate:.3f}); dialogues all right: "
          f"{total['dialogues_ok']}/{total['dialogues']} ({dialogue_rate:.3f}); details in "
          f"{args.out}")
    print(f"latency p95: first question {first * 1000:.0f} ms, follow-up {follow * 1000:.0f} ms")
    if args.show_failures:
        for r in results:
            for t in r["turns"]:
                if not t["ok"]:
                    print(f"- {r['name']}: {t['user']!r} -> {t['problems']}\n    {t['reply'][:300]}")
    ok = turn_rate >= args.min_turns and dialogue_rate >= args.min_dialogues
    if not ok:
        print(f"FAILED: turns {turn_rate:.3f} (bar {args.min_turns}), dialogues {dialogue_rate:.3f} "
              f"(bar {args.min_dialogues})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
