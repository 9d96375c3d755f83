"""Staff console at scale: 100,000 generated conversations in PostgreSQL.

Writes bench/results/console.json with
- the first fold of the events into the per-conversation summaries (once, at console start);
- the inbox's first page, a search (text, phone, email), a transcript and the 90-day overview
  (JSON and CSV): p50/p95 over HTTP
  against a running console (`python -m console`), signed in with a bearer token;
- beside them, the same first page computed the naive way (GROUP BY over Rasa's events table),
  which is what the console would cost without its summary table.

    python -m bench.console_bench [--conversations 100000] [--db-url postgresql://postgres@127.0.0.1:5432/postgres]
A scratch database (console_bench) is created and dropped again.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import psycopg2
import requests

from bench.common import RESULTS, ROOT, summarise, timed

SCRATCH = "console_bench"
ADMIN = ("bench@milea.test", "bench-password-123")
WORDS = ("hours tasting club wine riesling dog picnic tour gift card shipping order saturday sunday price "
         "reservation group wedding event parking rose cabernet events menu points").split()
INTENTS = ("ask_hours", "ask_tastings", "ask_wine", "greet", "ask_club", "ask_visiting", "thank")
EVENTS_DDL = ("CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) "
              "NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)")


def _scratch(admin_url: str, create: bool) -> str:
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        if create:
            cur.execute(f"CREATE DATABASE {SCRATCH}")
    conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{SCRATCH}"


def _event(sender: str, kind: str, at: float, **data) -> tuple:
    body = {"event": kind, "timestamp": at, **data}
    intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name") if kind == "user" else None
    action = data.get("name") if kind == "action" else None
    return sender, kind, at, intent, action, json.dumps(body)


def conversation(n: int, rng: random.Random, now: float) -> list[tuple]:
    roll = rng.random()
    channel = "socketio" if roll < 0.7 else "twilio" if roll < 0.95 else "rest"
    sender = f"+1845{n:07d}" if channel == "twilio" else f"{rng.getrandbits(128):032x}"
    at = now - rng.random() * 120 * 86400
    rows = [_event(sender, "action", at, name="action_session_start"), _event(sender, "session_started", at)]
    for turn in range(rng.randint(1, 4)):
        at += rng.uniform(5, 60)
        text = " ".join(rng.choices(WORDS, k=rng.randint(3, 9)))
        if rng.random() < 0.05:
            text += f" my email is guest{n}@example.com"
        intent = "nlu_fallback" if rng.random() < 0.06 else rng.choice(INTENTS)
        rows.append(_event(sender, "user", at, text=text, input_channel=channel,
                           parse_data={"intent": {"name": intent, "confidence": round(rng.uniform(0.3, 1), 3)},
                                       "entities": [], "text": text}))
        action = "action_handoff" if rng.random() < 0.02 else (
            "action_answer_fallback" if intent == "nlu_fallback" else f"utter_{intent}")
        rows.append(_event(sender, "action", at + 0.3, name=action, policy="RulePolicy", confidence=1.0))
        rows.append(_event(sender, "bot", at + 0.4, text="An answer about " + text[:40], data={}, metadata={}))
        rows.append(_event(sender, "action", at + 0.5, name="action_listen"))
    return rows


def generate(url: str, count: int, seed: int = 7) -> int:
    rng, now, total = random.Random(seed), time.time(), 0
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(EVENTS_DDL)
        cur.execute("CREATE INDEX ix_events_sender_id ON events (sender_id)")  # Rasa's own index
        for start in range(0, count, 5000):
            buf = io.StringIO()
            for n in range(start, min(count, start + 5000)):
                for row in conversation(n, rng, now):
                    buf.write("\t".join(_copy(v) for v in row) + "\n")
                    total += 1
            buf.seek(0)
            cur.copy_expert("COPY events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                            "FROM STDIN", buf)
    conn.close()
    return total


def _copy(value: object) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def naive_first_page(url: str, n: int) -> dict:
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        def query() -> None:
            cur.execute("SELECT sender_id, MAX(timestamp) AS last FROM events GROUP BY sender_id "
                        "ORDER BY last DESC LIMIT 50")
            cur.fetchall()
        stats = summarise(timed(query, n))
    conn.close()
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--db-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args(argv)
    url = _scratch(args.db_url, create=True)
    result: dict = {"conversations": args.conversations, "database": "PostgreSQL (scratch database)"}
    proc = None
    try:
        started = time.perf_counter()
        result["events"] = generate(url, args.conversations)
        result["generate_s"] = round(time.perf_counter() - started, 1)
        print(f"[bench] {result['events']} events in {result['generate_s']} s", flush=True)

        sys.path.insert(0, str(ROOT))
        from console import schema, summaries
        from console.db import ConsoleDB

        db = ConsoleDB(url)
        schema.create(db)
        started = time.perf_counter()
        schema.index_events(db)
        summaries.catch_up(db)
        result["first_fold_s"] = round(time.perf_counter() - started, 1)
        print(f"[bench] summaries folded in {result['first_fold_s']} s", flush=True)
        db.close()

        port = 18090 + random.randint(0, 500)
        env = {**os.environ, "TRACKER_DB_URL": url, "CONSOLE_PORT": str(port), "STAFF_ADMIN_EMAIL": ADMIN[0],
               "STAFF_ADMIN_PASSWORD": ADMIN[1], "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "console"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        s = requests.Session()
        token = s.post(f"{base}/api/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=30).json()["token"]
        s.headers["Authorization"] = f"Bearer {token}"

        def get(path: str, **params) -> requests.Response:
            r = s.get(base + path, params=params, timeout=30)
            r.raise_for_status()
            return r

        get("/api/conversations")  # warm
        n = args.requests
        result["inbox_first_page_api"] = summarise(timed(lambda: get("/api/conversations"), n))
        cookie_free_page = summarise(timed(lambda: get("/api/conversations", channel="twilio", handed_off="true"), n))
        result["inbox_filtered_sms_handed_off"] = cookie_free_page
        queries = ["picnic wedding", "guest4242@example.com", "845000123", "riesling", "no such words here"]
        result["search"] = {q: summarise(timed(lambda q=q: get("/api/conversations", q=q), n // 3)) for q in queries}
        some = get("/api/conversations").json()["conversations"][0]["id"]
        result["transcript"] = summarise(timed(lambda: get(f"/api/conversations/{some}"), n))
        from datetime import date, timedelta

        today = date.today()
        span = {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()}
        result["overview_90_days_api"] = summarise(timed(lambda: get("/api/overview", **span), n))
        result["overview_90_days_csv"] = summarise(timed(lambda: get("/overview.csv", **span), n // 3))
        result["naive_first_page_group_by_events"] = naive_first_page(url, 5)
        search_p95 = max(v["p95_ms"] for v in result["search"].values())
        result["targets"] = {"inbox_first_page_p95_ms_under_300": result["inbox_first_page_api"]["p95_ms"] < 300,
                             "search_p95_ms_under_300": search_p95 < 300,
                             "overview_90_days_p95_ms_under_1000": result["overview_90_days_api"]["p95_ms"] < 1000}
    finally:
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        _scratch(args.db_url, create=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "console.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
