"""Fail when the held-out NLU evaluation is below the bar: check_nlu.py REPORT --min-macro-f1 X"""
import argparse
import json
import sys

parser = argparse.ArgumentParser()
parser.add_argument("report")
parser.add_argument("--min-macro-f1", type=float, required=True)
args = parser.parse_args()
report = json.load(open(args.report))
macro = report["macro avg"]["f1-score"]
weakest = sorted(
    ((k, v["f1-score"]) for k, v in report.items() if isinstance(v, dict) and "support" in v and k not in {"macro avg", "weighted avg", "micro avg"}),
    key=lambda kv: kv[1],
)[:5]
print(f"[nlu holdout] intent macro-F1 {macro:.3f} (bar {args.min_macro_f1}); weakest: "
      + ", ".join(f"{k} {v:.2f}" for k, v in weakest))
sys.exit(0 if macro >= args.min_macro_f1 else 1)
