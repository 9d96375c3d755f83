"""Score one blind round (`make blind DIR=...`): a folder written by someone who saw only the
facts file, holding dialogues.yml (whole dialogues), knowledge.yml (hard single questions, in the
dialogue format) and nlu.yml (hard utterances with their intents).

The dialogues and questions go through the REST channel of a stack started like `make run`
(offline, the clock pinned like `make eval`); the utterances through `rasa test nlu`. The numbers
go to bench/results/blind/<folder name>.json, so a round's pre-fix score is kept beside its later ones.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
import yaml

from scripts.dialogue_eval import (DIALOGUES, EVAL_TOKEN_SECRET, PINNED_NOW, ROOT, customer_token, load, run_dialogue,
                                   summarise)

RESULTS = ROOT / "bench" / "results" / "blind"
RASA = ROOT / ".venv" / "rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "milea.tar.gz"
HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"


def nlu_scores(nlu_file: Path, out: Path) -> dict:
    """Intent macro-F1 and the misclassified utterances of `rasa test nlu` on one file."""
    subprocess.run([str(RASA), "test", "nlu", "--nlu", str(nlu_file), "--model", str(MODEL), "--out", str(out)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = json.loads((out / "intent_report.json").read_text())
    errors = json.loads((out / "intent_errors.json").read_text()) if (out / "intent_errors.json").exists() else []
    per_intent = {k: round(v["f1-score"], 3) for k, v in report.items()
                  if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg")}
    return {"macro_f1": round(report["macro avg"]["f1-score"], 4), "accuracy": round(report.get("accuracy", 0), 4),
            "per_intent": per_intent,
            "errors": [{"text": e["text"], "expected": e["intent"], "got": e["intent_prediction"]["name"]}
                       for e in errors]}


def score_dialogues(url: str, path: Path) -> dict:
    def say(sender: str, message: str, customer: str | None = None) -> list[dict]:
        body: dict = {"sender": sender, "message": message}
        if customer:  # the proven owner of that demo account, signed in on the website
            body["metadata"] = {"customer_token": customer_token(customer, EVAL_TOKEN_SECRET)}
        response = requests.post(f"{url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    results = [run_dialogue(say, d) for d in load(path.parent) if d["file"] == path.name]
    total = summarise(results)["ALL"]
    return {"turns": total["turns"], "turns_right": total["turns_ok"],
            "dialogues": total["dialogues"], "dialogues_right": total["dialogues_ok"],
            "failures": [{"dialogue": r["name"], "user": t["user"], "problems": t["problems"], "reply": t["reply"]}
                         for r in results for t in r["turns"] if not t["ok"]]}


def _plain(text: str) -> str:
    return " ".join(re.sub(r"\[([^\]]*)\](\{[^}]*\}|\([^)]*\))", r"\1", text).casefold().split())


def _utterances(path: Path) -> set[str]:
    found = set()
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        for line in (block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                found.add(_plain(line.strip()[2:]))
    return found


def keep(folder: Path) -> list[str]:
    """After a round's fixes: its dialogues and questions join tests/dialogues/ and its utterances the
    NLU holdout (those that are training examples or already held out are left out). Returns what it did."""
    done = []
    for name, target in (("dialogues", f"blind_{folder.name}.yml"), ("knowledge", f"blind_{folder.name}_knowledge.yml")):
        if (folder / f"{name}.yml").exists():
            shutil.copy(folder / f"{name}.yml", DIALOGUES / target)
            done.append(f"tests/dialogues/{target}")
    if (folder / "nlu.yml").exists():
        training = set().union(*(_utterances(p) for p in sorted((ROOT / "data" / "nlu").glob("*.yml"))))
        held = _utterances(HOLDOUT)
        text = HOLDOUT.read_text(encoding="utf-8").rstrip("\n") + (
            f"\n  # ---- blind {folder.name}: written from the facts file only, scored before its fixes "
            "(bench/results/blind-rounds.md)\n")
        added = 0
        for block in (yaml.safe_load((folder / "nlu.yml").read_text(encoding="utf-8")) or {}).get("nlu") or []:
            lines = []
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- ") and _plain(line[2:]) not in training | held:
                    held.add(_plain(line[2:]))
                    lines.append(line)
            if lines:
                text += f"  - intent: {block['intent']}\n    examples: |\n" + "".join(f"      {x}\n" for x in lines)
                added += len(lines)
        HOLDOUT.write_text(text, encoding="utf-8")
        done.append(f"tests/nlu/holdout.yml: {added} utterances")
    return done


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--label", default="", help="a word for this scoring (e.g. pre-fix, after)")
    parser.add_argument("--url", help="a running assistant (default: start one like `make run`)")
    parser.add_argument("--keep", action="store_true",
                        help="instead of scoring: add the round to tests/dialogues/ and the NLU holdout")
    args = parser.parse_args()
    folder = args.folder.resolve()
    if args.keep:
        for line in keep(folder):
            print(f"kept: {line}")
        return 0
    result: dict = {"set": folder.name, "label": args.label}
    stack = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        from tests.integration.stack import Stack

        stack = Stack(Path(tempfile.mkdtemp(prefix="milea-blind-")), {"MILEA_NOW": PINNED_NOW,
                                                                            "CUSTOMER_TOKEN_SECRET": EVAL_TOKEN_SECRET}).start()
        url = stack.url
    try:
        for name in ("dialogues", "knowledge"):
            if (folder / f"{name}.yml").exists():
                result[name] = score_dialogues(url, folder / f"{name}.yml")
    finally:
        if stack is not None:
            stack.stop()
    if (folder / "nlu.yml").exists():
        result["nlu"] = nlu_scores(folder / "nlu.yml", Path(tempfile.mkdtemp(prefix="milea-blind-nlu-")))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{folder.name}{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for name in ("dialogues", "knowledge"):
        if name in result:
            r = result[name]
            print(f"{name:<10} turns {r['turns_right']}/{r['turns']} ({r['turns_right'] / max(1, r['turns']):.2f}), "
                  f"whole dialogues {r['dialogues_right']}/{r['dialogues']} "
                  f"({r['dialogues_right'] / max(1, r['dialogues']):.2f})")
    if "nlu" in result:
        print(f"nlu        macro-F1 {result['nlu']['macro_f1']:.3f}, accuracy {result['nlu']['accuracy']:.3f}")
    print(f"details in {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
