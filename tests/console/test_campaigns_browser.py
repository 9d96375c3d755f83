"""Drives tests/console/campaigns.spec.mjs (system Chromium through playwright-core) against a console with
a campaign the real jobs process sent to the fake Twilio API. UPDATE_SCREENSHOTS=1 writes the README's
screenshots (docs/console/campaigns-*.png, consent-desktop.png)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from commerce7_demo.emulator import EmulatorServer
from core.consent import ConsentLedger
from core.paths import ROOT
from tests.console.helpers import ADMIN, STAFF, Console, Tracker, wait_for
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.test_campaign_delivery import JORDAN, NUMBER, PRIYA, SID, TOKEN, Jobs

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
PLAYWRIGHT = ROOT / "widget" / "node_modules" / "playwright-core"
SPEC = ROOT / "tests" / "console" / "campaigns.spec.mjs"


def test_campaigns_and_consent_in_a_browser(tmp_path):
    missing = ("node is not installed" if not shutil.which("node") else
               f"{CHROMIUM} is missing" if not CHROMIUM.exists() else
               "widget/node_modules is missing (npm ci in widget/)" if not PLAYWRIGHT.exists() else None)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    api = FakeTwilioApi(SID, TOKEN).start()
    emulator = EmulatorServer(None).start()
    console = Console(tmp_path, {"C7_API_URL": emulator.url, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
                                 "TWILIO_NUMBER": NUMBER, "CAMPAIGN_RATE_PER_S": "1"}).start()
    Tracker(tmp_path / "tracker.db")
    jobs = None
    try:
        console.add_user(*STAFF)
        admin = {"Authorization": f"Bearer {console.token(*ADMIN)}"}
        numbers = [f"+1845555{n:04d}" for n in range(24)]
        rows = [{"phone": n, "source": "tasting room sign-up sheet", "date": "2026-10-04"} for n in numbers]
        rows += [{"phone": p, "source": "club card", "date": "2026-09-01"} for p in (JORDAN, PRIYA)]
        assert requests.post(f"{console.url}/api/consent/import", json={"rows": rows}, headers=admin,
                             timeout=10).json()["opted_in"] == len(rows)
        ledger = ConsentLedger(f"sqlite:///{tmp_path / 'sms.db'}")
        campaign = requests.post(f"{console.url}/api/campaigns", json={
            "name": "Storm closure", "text": "We're closed today for the storm. Stay safe, see you tomorrow!",
            "audience": {"club_members": True}, "send_at": None}, headers=admin, timeout=10).json()["id"]
        requests.post(f"{console.url}/api/campaigns/{campaign}/send", headers=admin, timeout=10).raise_for_status()
        jobs = Jobs(tmp_path, {"TWILIO_API_BASE_URL": api.url, "C7_API_URL": emulator.url,
                               "CAMPAIGN_QUIET_HOURS": "off", "CAMPAIGN_RATE_PER_S": "20"}).start()

        def report() -> dict:
            return requests.get(f"{console.url}/api/campaigns/{campaign}", headers=admin, timeout=10).json()

        assert wait_for(lambda: report()["status"] == "done", 60), report()
        ledger.opt_out(PRIYA, "sms", "STOP")  # a member who got it texts STOP afterwards
        env = {**os.environ, "CONSOLE_URL": console.url, "ADMIN_EMAIL": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1],
               "STAFF_EMAIL": STAFF[0], "STAFF_PASSWORD": STAFF[1], "CHROMIUM_PATH": str(CHROMIUM),
               "EXPECT_SENT": str(report()["sent"])}
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            env["CONSOLE_SHOTS"] = str(ROOT / "docs" / "console") + "/"
        run = subprocess.run(["node", "--test", "--test-reporter=spec", "--test-concurrency=1", str(SPEC)], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=300)
        output = f"{run.stdout}\n{run.stderr}".strip()
        print(output)
        assert run.returncode == 0, f"browser tests failed (screenshots in results/console/):\n{output}"
    finally:
        if jobs:
            jobs.stop()
        console.stop()
        emulator.stop()
        api.stop()
