"""`make feedback-report`: every feedback record to results/feedback/feedback.csv and a short summary.

Summary: counts by kind and channel, the average star rating, thumbs up/down, and the five
answers customers liked least (ratings and thumbs on one scale: 5 stars or a thumb up = +1,
3 stars = 0, 1 star or a thumb down = -1), each with the question it answered.

    python -m scripts.feedback_report [--out results/feedback/feedback.csv] [--db URL]
"""
from __future__ import annotations

import argparse
import csv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from core.feedback_store import COLUMNS, Feedback, FeedbackStore
from core.paths import ROOT

DEFAULT_OUT = ROOT / "results" / "feedback" / "feedback.csv"
LOWEST = 5


def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(records: Sequence[Feedback], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for r in records:
            created = r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") if r.created_at else ""
            writer.writerow([r.id, _cell(r.conversation_id), r.channel, r.kind, r.rating, _cell(r.comment or ""),
                             _cell(r.answer_text or ""), _cell(r.question_text or ""), created])
    return path


def score(record: Feedback) -> float:
    """-1 (worst) to +1 (best) for ratings and thumbs alike."""
    return float(record.rating) if record.kind == "thumb" else (record.rating - 3) / 2


def lowest_answers(records: Sequence[Feedback], count: int = LOWEST) -> List[Dict[str, object]]:
    groups: Dict[str, List[Feedback]] = defaultdict(list)
    for r in records:
        if r.answer_text:
            groups[r.answer_text].append(r)
    rows = []
    for answer, items in groups.items():
        questions = Counter(i.question_text for i in items if i.question_text)
        ratings = [i.rating for i in items if i.kind == "rating"]
        rows.append({
            "answer": answer, "score": sum(score(i) for i in items) / len(items), "votes": len(items),
            "down": sum(1 for i in items if i.kind == "thumb" and i.rating < 0),
            "avg_rating": sum(ratings) / len(ratings) if ratings else None,
            "question": questions.most_common(1)[0][0] if questions else None,
            "comments": [i.comment for i in items if i.comment],
        })
    rows.sort(key=lambda row: (row["score"], -row["votes"]))
    return [row for row in rows if row["score"] < 1][:count]


def _short(text: Optional[str], limit: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def summary(records: Sequence[Feedback]) -> str:
    lines = [f"Feedback records: {len(records)}"]
    if not records:
        return "\n".join(lines + ["(nothing yet: ratings come from the feedback form, thumbs from the web chat)"])
    by = Counter((r.kind, r.channel) for r in records)
    lines.append("By kind/channel: " + ", ".join(f"{k}/{c} {n}" for (k, c), n in sorted(by.items())))
    ratings = [r.rating for r in records if r.kind == "rating"]
    if ratings:
        lines.append(f"Average rating: {sum(ratings) / len(ratings):.2f} / 5 over {len(ratings)} rating(s)")
    else:
        lines.append("Average rating: no ratings yet")
    up = sum(1 for r in records if r.kind == "thumb" and r.rating > 0)
    down = sum(1 for r in records if r.kind == "thumb" and r.rating < 0)
    if up + down:
        lines.append(f"Thumbs: {up} up / {down} down ({100 * up / (up + down):.0f}% up)")
    else:
        lines.append("Thumbs: none yet")
    lowest = lowest_answers(records)
    lines.append(f"Lowest-rated answers ({len(lowest)}):")
    for i, row in enumerate(lowest, 1):
        detail = f"{row['votes']} vote(s)"
        if row["avg_rating"] is not None:
            detail += f", avg rating {row['avg_rating']:.1f}"
        if row["down"]:
            detail += f", {row['down']} thumb(s) down"
        lines.append(f"  {i}. score {row['score']:+.2f} ({detail})")
        lines.append(f"     Q: {_short(row['question']) or '(not known)'}")
        lines.append(f"     A: {_short(row['answer'])}")
        for comment in row["comments"][:2]:
            lines.append(f"     comment: {_short(comment, 100)}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--db", help="database URL (default: FEEDBACK_DB_URL, TRACKER_DB_URL or the SQLite file)")
    args = parser.parse_args(argv)
    store = FeedbackStore(args.db) if args.db else FeedbackStore.from_settings()
    records = store.all()
    path = write_csv(records, args.out)
    print(summary(records))
    print(f"CSV: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
