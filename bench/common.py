"""Shared pieces of the benchmarks: a vanilla `rasa init` bot as the baseline,
latency statistics, and writing results to bench/results/."""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path
from typing import Callable

import requests

from core.paths import ROOT

RESULTS = ROOT / "bench" / "results"
RASA = ROOT / ".venv" / "rasa" / "bin" / "rasa"
VANILLA = ROOT / ".data" / "bench" / "vanilla"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(latencies_s: list[float]) -> dict:
    ms = [v * 1000 for v in latencies_s]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1), "mean_ms": round(statistics.fmean(ms), 1)}


def timed(call: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": f"{os.cpu_count()} cores", **data}
    path.write_text(json.dumps(data, indent=2))
    return path


class VanillaBot:
    """The moodbot of `rasa init`, trained once, served by the same Rasa."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen | None = None

    def ensure_trained(self) -> None:
        if list((VANILLA / "models").glob("*.tar.gz")):
            return
        VANILLA.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(VANILLA)], cwd=VANILLA, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def retrain(self) -> None:
        """The same `rasa init` project trained again (its policies have no fixed seed)."""
        for model in (VANILLA / "models").glob("*.tar.gz"):
            model.unlink()
        subprocess.run([str(RASA), "train", "--force"], cwd=VANILLA, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> "VanillaBot":
        self.ensure_trained()
        log = open(VANILLA / "serve.log", "w")
        # Telemetry off, as for the assistant (scripts/run.py): both measured without calls out.
        self.proc = subprocess.Popen([str(RASA), "run", "--enable-api", "--port", str(self.port)], cwd=VANILLA,
                                     env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/", timeout=2).ok:
                    return self
            except requests.RequestException:
                time.sleep(1)
        raise RuntimeError("vanilla bot did not start")

    def say(self, sender: str, message: str) -> list:
        response = requests.post(f"http://127.0.0.1:{self.port}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message}, timeout=30)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
