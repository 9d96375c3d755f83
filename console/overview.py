"""The overview: daily counters (console_daily, folded with the summaries) over a date range,
turned into the series the charts show and the CSV staff export."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Optional

from console.db import ConsoleDB
from console.summaries import LATENCY_BUCKETS_MS

METRICS = ("conversations", "intent", "fallback", "handoff", "turns", "rating", "signup", "captured", "latency")
MAX_DAYS = 400


class BadRange(ValueError):
    """A date range the overview cannot show, with the reason."""


def date_range(since: Optional[str], until: Optional[str], today: date) -> tuple[date, date]:
    try:
        end = date.fromisoformat(until) if until else today
        start = date.fromisoformat(since) if since else end - timedelta(days=29)
    except ValueError:
        raise BadRange("dates must look like 2026-11-27") from None
    if start > end:
        raise BadRange("'from' must not be after 'to'")
    if (end - start).days >= MAX_DAYS:
        raise BadRange(f"choose at most {MAX_DAYS} days")
    return start, end


def rows(db: ConsoleDB, start: date, end: date, metric: Optional[str] = None) -> list[tuple[str, str, str, int]]:
    sql = "SELECT day, metric, key, n FROM console_daily WHERE day >= ? AND day <= ?"
    params: list = [start.isoformat(), end.isoformat()]
    if metric:
        sql += " AND metric = ?"
        params.append(metric)
    return [(d, m, k, int(n)) for d, m, k, n in db.all(sql + " ORDER BY day, metric, key", params)]


def _percentile(histogram: dict[str, int], q: float) -> Optional[int]:
    """The bucket bound (ms) under which q of the responses fall."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bound in (*LATENCY_BUCKETS_MS, 10 ** 6):
        seen += histogram.get(str(bound), 0)
        if seen >= q * total:
            return bound
    return None


def series(db: ConsoleDB, start: date, end: date) -> dict:
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    per_day: dict[str, dict[str, dict[str, int]]] = {}
    totals: dict[str, dict[str, int]] = {}
    for day, metric, key, n in rows(db, start, end):
        per_day.setdefault(metric, {}).setdefault(key, {})[day] = per_day.get(metric, {}).get(key, {}).get(day, 0) + n
        totals.setdefault(metric, {})[key] = totals.get(metric, {}).get(key, 0) + n

    def line(metric: str, key: str = "") -> list[int]:
        values = per_day.get(metric, {}).get(key, {})
        return [values.get(d, 0) for d in days]

    conversations = {k: line("conversations", k) for k in sorted(per_day.get("conversations", {}))}
    daily_total = [sum(v[i] for v in conversations.values()) for i in range(len(days))]
    turns = line("turns")

    def rate(numerator: list[int], denominator: list[int]) -> list[Optional[float]]:
        return [round(n / d, 3) if d else None for n, d in zip(numerator, denominator)]

    conv_total = sum(daily_total)
    latency = totals.get("latency", {})
    intents = sorted(totals.get("intent", {}).items(), key=lambda kv: -kv[1])[:15]
    return {
        "from": start.isoformat(), "to": end.isoformat(), "days": days,
        "conversations_by_channel": conversations,
        "top_intents": [{"intent": k, "count": v} for k, v in intents],
        "fallback_rate": rate(line("fallback"), turns),
        "handoff_rate": rate(line("handoff"), daily_total),
        "ratings": totals.get("rating", {}),
        "signups": {"started": totals.get("signup", {}).get("started", 0),
                    "submitted": totals.get("signup", {}).get("submitted", 0)},
        "captured": {"email": totals.get("captured", {}).get("email", 0),
                     "phone": totals.get("captured", {}).get("phone", 0)},
        "response_ms": {"median": _percentile(latency, 0.5), "p95": _percentile(latency, 0.95),
                        "answered": sum(latency.values())},
        "totals": {"conversations": conv_total, "turns": sum(turns),
                   "fallbacks": sum(line("fallback")), "handoffs": sum(line("handoff"))},
    }


def csv_text(db: ConsoleDB, start: date, end: date, metric: Optional[str]) -> str:
    if metric and metric not in METRICS:
        raise BadRange(f"'metric' must be one of {', '.join(METRICS)}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "metric", "key", "count"])
    writer.writerows(rows(db, start, end, metric))
    return out.getvalue()
