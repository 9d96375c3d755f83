"""Catalog sync against the emulator, the scheduler's clock, identity tokens, points replies."""
from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from core.commerce7.client import Commerce7Client
from core.commerce7.sync import generated_files, sync_catalog
from actions.identity import sign_token, verify_token
from actions.loyalty import balance_reply
from actions.settings import Settings
from jobs.scheduler import next_sync
from commerce7_demo.emulator import EmulatorServer

from core.paths import ROOT
NY = ZoneInfo("America/New_York")


@pytest.fixture()
def emulator(tmp_path):
    server = EmulatorServer(tmp_path / "c7.json").start()
    yield server
    server.stop()


@pytest.fixture()
def kb(tmp_path):
    kdir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kdir)
    return Settings(knowledge_dir=kdir, data_dir=tmp_path / "data", warm_on_start=False)


def sync(server, settings, lookup, **kw):
    async def go():
        async with Commerce7Client(server.url, server.app_id, server.secret, server.tenant,
                                   backoff_base=0.01, max_retries=0) as client:
            return await sync_catalog(client, settings, lookup_path=lookup, **kw)
    return asyncio.run(go())


def test_sync_is_idempotent_and_tracks_added_changed_removed(emulator, kb, tmp_path):
    lookup = tmp_path / "wine_lookup.yml"
    first = sync(emulator, kb, lookup)
    assert first.index is not None and first.index.version
    second = sync(emulator, kb, lookup)
    assert (second.added, second.changed, second.removed) == ([], [], [])
    assert second.index.embedded_ids == []
    assert "Reserve Cabernet Franc" in lookup.read_text()

    products = emulator.state["products"]
    retired = next(p for p in products.values() if p["title"] == "Four Seasons Reserve Rose")
    retired["webStatus"] = "Not Available"
    changed = next(p for p in products.values() if p["title"] == "Farmhouse Chardonnay")
    changed["content"] = "<p>Unoaked; green apple, quince, brioche and a new note of lemon curd.</p>"
    third = sync(emulator, kb, lookup)
    assert third.removed == ["wine/four-seasons-reserve-rose-2023.md"]
    assert third.changed == ["wine/farmhouse-chardonnay-2023.md"] and third.added == []
    assert "lemon curd" in (kb.knowledge_dir / "wine/farmhouse-chardonnay-2023.md").read_text()
    assert "Four Seasons" not in lookup.read_text()
    # Hand-written knowledge is never touched by the sync.
    assert (kb.knowledge_dir / "wine-guide/four-seasons-reserve-rose.md").exists()


def test_failed_sync_leaves_knowledge_untouched(emulator, kb, tmp_path):
    lookup = tmp_path / "wine_lookup.yml"
    sync(emulator, kb, lookup)
    before = generated_files(kb.knowledge_dir)
    emulator.set_faults(down=True)
    with pytest.raises(Exception):
        sync(emulator, kb, lookup)
    assert generated_files(kb.knowledge_dir) == before


def test_failure_while_indexing_restores_the_previous_files(emulator, kb, tmp_path, monkeypatch):
    lookup = tmp_path / "wine_lookup.yml"
    sync(emulator, kb, lookup)
    before = generated_files(kb.knowledge_dir)
    next(p for p in emulator.state["products"].values() if p["title"] == "Milea Hat")["webStatus"] = "Retired"
    import core.commerce7.sync as sync_module

    calls = []

    def failing_index(settings):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("index unavailable")
    monkeypatch.setattr(sync_module, "sync_index", failing_index)
    with pytest.raises(RuntimeError):
        sync(emulator, kb, lookup)
    assert generated_files(kb.knowledge_dir) == before and len(calls) == 2


@pytest.mark.parametrize("slug", ["../club/membership", "../../README", "wine/../../club/tiers", "/tmp/x"])
def test_a_product_slug_never_writes_outside_its_folder(emulator, kb, tmp_path, slug):
    before = {p: p.read_bytes() for p in kb.knowledge_dir.rglob("*") if p.is_file() and "club" in p.parts}
    hat = next(p for p in emulator.state["products"].values() if p["title"] == "Milea Hat")
    changed = requests.put(f"{emulator.url}/product/{hat['id']}", json={"slug": slug}, timeout=10,
                           auth=(emulator.app_id, emulator.secret), headers={"tenant": emulator.tenant})
    assert changed.status_code == 200 and changed.json()["slug"] == slug  # Commerce7 takes any slug
    report = sync(emulator, kb, tmp_path / "wine_lookup.yml", reindex=False)
    assert {p: p.read_bytes() for p in kb.knowledge_dir.rglob("*") if p.is_file() and "club" in p.parts} == before
    for path in report.added:
        page = (kb.knowledge_dir / path).resolve()
        assert page.parent in [(kb.knowledge_dir / f).resolve() for f in ("wine", "tastings", "shop")], path
    assert not (tmp_path / "README.md").exists() and not Path("/tmp/x.md").exists()


def test_daily_sync_time_is_two_am_new_york_across_dst():
    assert next_sync(datetime(2026, 11, 24, 12, 0, tzinfo=NY)) == datetime(2026, 11, 25, 2, 0, tzinfo=NY)
    assert next_sync(datetime(2026, 11, 24, 1, 59, tzinfo=NY)) == datetime(2026, 11, 24, 2, 0, tzinfo=NY)
    summer = next_sync(datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    assert summer.astimezone(timezone.utc).hour == 6  # 02:00 EDT
    winter = next_sync(datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc))
    assert winter.astimezone(timezone.utc).hour == 7  # 02:00 EST


def test_customer_tokens():
    token = sign_token({"sub": "cust-1", "exp": 2_000}, "s3cret")
    assert verify_token(token, "s3cret", now=1_000) == {"sub": "cust-1", "exp": 2_000}
    assert verify_token(token, "other", now=1_000) is None
    assert verify_token(token, "s3cret", now=3_000) is None  # expired
    assert verify_token(token, None) is None and verify_token("a.b", "s3cret") is None
    header, payload, sig = token.split(".")
    assert verify_token(f"{header}.{payload}x.{sig}", "s3cret", now=1_000) is None
    unsigned = sign_token({"sub": "cust-1", "exp": 2_000}, "s3cret").replace(header, "eyJhbGciOiJub25lIn0")
    assert verify_token(unsigned, "s3cret", now=1_000) is None


def test_points_reply_names_the_next_reward():
    text = balance_reply(12_400, "Grand Prix")
    assert "12,400" in text and "Grand Prix" in text
    assert "a case of wine for a penny (10,000 points)" in text
    assert "15,000 points: 2,600 to go" in text
    assert "50,000" not in balance_reply(45_000, None) and "to go" not in balance_reply(45_000, None)
