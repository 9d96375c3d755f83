"""Knowledge QA evaluation (`make eval`): retrieval hit@3 and answer fact accuracy
per intent, plus how many unanswerable questions are correctly declined."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import defaultdict

import yaml

from actions.knowledge.service import INTENT_DOMAINS, KnowledgeService
from actions.settings import Settings
from core.paths import ROOT

QA_FILE = ROOT / "tests" / "qa" / "knowledge_qa.yml"
UNANSWERABLE_FILE = ROOT / "tests" / "qa" / "unanswerable.yml"
RESULTS = ROOT / "results" / "knowledge_eval.json"


async def evaluate(service: KnowledgeService) -> dict:
    questions = yaml.safe_load(QA_FILE.read_text())["questions"]
    rows = defaultdict(lambda: {"n": 0, "hit": 0, "correct": 0})
    failures = []
    for q in questions:
        domains = INTENT_DOMAINS.get(q["intent"])
        hits = service.retriever.search(q["q"], domains, k=3)
        sources = q["source"] if isinstance(q["source"], list) else [q["source"]]
        hit = any(h.passage.source in sources for h in hits)
        answer = await service.answer(q["q"], q["intent"])
        text = answer.text.lower()
        correct = answer.found and all(f.lower() in text for f in q["facts"])
        for key in (q["intent"], "ALL"):
            rows[key]["n"] += 1
            rows[key]["hit"] += hit
            rows[key]["correct"] += correct
        if not (hit and correct):
            failures.append({"q": q["q"], "intent": q["intent"], "hit": hit, "facts": q["facts"],
                             "answer": answer.text, "top": [h.passage.id for h in hits]})
    declined = 0
    unanswerable = yaml.safe_load(UNANSWERABLE_FILE.read_text())["questions"]
    for q in unanswerable:
        answer = await service.answer(q["q"], q.get("intent"))
        declined += not answer.found
        if answer.found:
            failures.append({"q": q["q"], "intent": q.get("intent"), "unexpected_answer": answer.text})
    return {"rows": dict(rows), "declined": declined, "unanswerable": len(unanswerable), "failures": failures}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-hit", type=float, default=0.0)
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    service = KnowledgeService(Settings.from_env())
    service.ensure_index()
    result = asyncio.run(evaluate(service))
    rows = result["rows"]
    print(f"{'intent':<20} {'n':>4} {'hit@3':>7} {'facts':>7}")
    for key in sorted(k for k in rows if k != "ALL") + ["ALL"]:
        r = rows[key]
        print(f"{key:<20} {r['n']:>4} {r['hit'] / r['n']:>7.3f} {r['correct'] / r['n']:>7.3f}")
    total = rows["ALL"]
    hit, acc = total["hit"] / total["n"], total["correct"] / total["n"]
    print(f"unanswerable declined: {result['declined']}/{result['unanswerable']}  (answer mode: {service.mode})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"hit_at_3": hit, "fact_accuracy": acc, **result}, indent=2))
    if args.show_failures:
        for f in result["failures"]:
            print(json.dumps(f))
    ok = hit >= args.min_hit and acc >= args.min_accuracy
    if not ok:
        print(f"FAILED: hit@3 {hit:.3f} (bar {args.min_hit}), fact accuracy {acc:.3f} (bar {args.min_accuracy}); "
              f"details in {RESULTS}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
