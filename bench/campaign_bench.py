"""A 5,000-recipient campaign sent by the real jobs process to the fake Twilio REST API at a set rate.

Measures what the issue asks: the rate is held (messages per second, second by second, after the first),
memory stays flat (the jobs process's resident memory sampled every second while it sends), and every
recipient gets the message exactly once. Writes bench/results/campaign.json.

    python -m bench.campaign_bench [--recipients 5000] [--rate 12]

A long code's limit is 1 message a second; a toll-free or short code's 3 to 100. The default rate is one this
2-core machine (shared with the other services) holds with room to spare; a higher one measures the machine.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.consent import ConsentLedger
from core.outreach import OutreachStore
from core.paths import ROOT
from tests.fakes.twilio_api import FakeTwilioApi

RESULTS = ROOT / "bench" / "results" / "campaign.json"
SID, TOKEN, NUMBER = "AC_bench_0123456789abcdef", "bench-auth-token-0123", "+15550009999"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=12.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the finally below stops the jobs process
    data = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    url = f"sqlite:///{data / 'sms.db'}"
    numbers = [f"+1555{n:07d}" for n in range(1_000_000, 1_000_000 + args.recipients)]
    ConsentLedger(url).import_numbers([(n, "bench sheet", "2026-11-01") for n in numbers], "bench")
    store = OutreachStore(url)
    campaign = store.create_campaign("bench", "The club party is Saturday at 6 PM!", "all", None, "bench")
    store.send_campaign(campaign, "bench")
    api = FakeTwilioApi(SID, TOKEN).start()
    env = {**{k: v for k, v in os.environ.items() if k not in ("TRACKER_DB_URL", "SMS_DB_URL")},
           "MILEA_DATA_DIR": str(data), "PYTHONPATH": str(ROOT), "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
           "TWILIO_NUMBER": NUMBER, "TWILIO_API_BASE_URL": api.url, "CAMPAIGN_RATE_PER_S": str(args.rate),
           "CAMPAIGN_QUIET_HOURS": "off", "TEXTING_EVERY_S": "0.5", "MILEA_OUTBOX_EVERY_S": "3600",
           "C7_API_URL": "http://127.0.0.1:9/v1"}
    log = open(data / "jobs.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    memory: list[float] = []
    started = time.monotonic()
    try:
        deadline = started + args.recipients / args.rate * 2 + 120
        while len(api.messages) < args.recipients and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit((data / "jobs.log").read_text()[-3000:])
            memory.append(round(rss_mb(proc.pid), 1))
            time.sleep(1.0)
        finished = time.monotonic()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()
        api.stop()
    per_number = collections.Counter(m["to"] for m in api.messages)
    stamps = api.accepted_at
    first = stamps[0] if stamps else started
    per_second = collections.Counter(int(t - first) for t in stamps)
    full_seconds = [per_second[s] for s in range(1, int(stamps[-1] - first))] if stamps else []  # whole seconds only
    sending = memory[2:] or memory  # after start-up
    counts = store.counts(campaign)
    result = {
        "recipients": args.recipients, "rate_set_per_s": args.rate,
        "sent": len(api.messages), "each_once": all(per_number[n] == 1 for n in numbers) and len(api.messages) ==
        len(numbers), "duplicates": sum(1 for n in per_number.values() if n > 1),
        "missing": sum(1 for n in numbers if per_number[n] == 0),
        "seconds_sending": round(stamps[-1] - first, 1) if stamps else None,
        "rate_measured_per_s": round((len(stamps) - 1) / (stamps[-1] - first), 2) if len(stamps) > 1 else None,
        "per_second": {"min": min(full_seconds), "max": max(full_seconds), "median": statistics.median(full_seconds)}
        if full_seconds else {},
        "rss_mb": {"first": sending[0], "max": max(sending), "last": sending[-1], "samples": len(sending),
                   "growth_first_to_last": round(sending[-1] - sending[0], 1)} if sending else {},
        "campaign_counts": counts, "wall_s": round(finished - started, 1),
        "jobs_process": "python -m jobs.scheduler, SQLite sms.db, fake Twilio API on loopback",
    }
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0 if result["each_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
