"""Commerce7 numbers: catalog sync and re-index time for the demo catalog and for a
generated catalog of 2,000 products, and the ask_wine turn latency with the
emulator answering in 0 ms and in 300 ms (catalog cache off, so every turn reads
Commerce7). Writes bench/results/commerce7.json."""
from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

from core.commerce7.client import Commerce7Client
from core.commerce7.sync import sync_catalog
from core.knowledge.embeddings import LocalEmbedder
from core.knowledge.index import sync_index
from actions.settings import Settings
from bench.common import ROOT, summarise, timed, write_result
from commerce7_demo.emulator import DEFAULT_TENANT, EmulatorServer, build_state, load_seed
from tests.integration.stack import Stack

VARIETALS = ["Cabernet Franc", "Chardonnay", "Rose", "Riesling", "Merlot", "Pinot Noir", "Sparkling"]
NOTES = ["cherry", "plum", "graphite", "green apple", "quince", "brioche", "strawberry", "wet stone", "citrus"]


def big_seed(n: int) -> dict:
    seed = load_seed()
    seed["wines"] = [*seed["wines"], *(
        {"title": f"Test Cuvee {i:04d}", "vintage": 2015 + i % 10, "varietal": VARIETALS[i % len(VARIETALS)],
         "price_cents": 2000 + (i * 137) % 6000,
         "notes": f"{NOTES[i % len(NOTES)]}, {NOTES[(i * 7) % len(NOTES)]}; lot {i}"}
        for i in range(n - len(seed["wines"]) - len(seed.get("tastings", [])) - len(seed.get("merchandise", []))))]
    return seed


def measure_sync(state_file: Path, label: str) -> dict:
    server = EmulatorServer(state_file).start()
    work = Path(tempfile.mkdtemp(prefix=f"milea-sync-{label}-"))
    shutil.copytree(ROOT / "knowledge", work / "knowledge")
    settings = Settings(knowledge_dir=work / "knowledge", data_dir=work / "data", warm_on_start=False)
    embedder = LocalEmbedder()
    sync_index(settings, embedder)  # the hand-written knowledge is indexed before the sync, as in production

    async def run_sync() -> dict:
        async with Commerce7Client(server.url, server.app_id, server.secret, server.tenant) as client:
            started = time.perf_counter()
            report = await sync_catalog(client, settings, lookup_path=work / "wine_lookup.yml")
            total = time.perf_counter() - started
        return {"seconds": round(total, 2), "index_seconds": round(report.index.seconds, 2),
                "added": len(report.added), "changed": len(report.changed), "removed": len(report.removed),
                "embedded_chunks": len(report.index.embedded_ids)}
    try:
        first = asyncio.run(run_sync())
        again = asyncio.run(run_sync())
    finally:
        server.stop()
    return {"first_sync": first, "second_sync_no_changes": again}


def wine_latency() -> dict:
    stack = Stack(Path(tempfile.mkdtemp(prefix="milea-bench-")), {"MILEA_CATALOG_TTL_S": "0"}).start()
    admin = f"http://127.0.0.1:{stack.c7_port}/__admin/faults"
    out = {}
    try:
        for latency in (0, 300):
            requests.post(admin, json={"latency_ms": latency}, timeout=10).raise_for_status()
            for _ in range(3):
                stack.say("warm", "how much is the reserve cabernet franc?")
            out[f"emulator_{latency}ms"] = summarise(
                timed(lambda: stack.say("bench-wine", "how much is the reserve cabernet franc?"), 40))
    finally:
        stack.stop()
    return out


def main() -> int:
    results = {}
    tmp = Path(tempfile.mkdtemp(prefix="milea-c7-"))
    results["demo_catalog"] = measure_sync(tmp / "demo.json", "demo")
    big = tmp / "big.json"
    big.write_text(json.dumps(build_state(big_seed(2000), DEFAULT_TENANT)))
    results["catalog_2000_products"] = measure_sync(big, "2000")
    results["ask_wine_turn"] = wine_latency()
    path = write_result("commerce7", results)
    print(json.dumps(results, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
