"""Campaigns sent by the real jobs process (python -m jobs.scheduler) to the fake Twilio REST API, created
and sent through the console's JSON API: every recipient once even when the jobs process is killed with a
message in flight, quiet hours hold, a number that never opted in gets nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from commerce7_demo.emulator import EmulatorServer
from core.consent import ConsentLedger
from core.paths import ROOT
from tests.console.helpers import ADMIN, Console, Tracker, free_port, wait_for
from tests.fakes.twilio_api import FakeTwilioApi

SID, TOKEN, NUMBER = "AC_campaigns_0123456789", "campaign-token-0123", "+15550002222"
JORDAN, PRIYA = "+15551234567", "+15559876543"  # seeded club members (Grand Prix, Jumper)
DAY, NIGHT = "2026-12-08T11:00:00-05:00", "2026-12-08T22:30:00-05:00"


class Jobs:
    """The jobs process as `make run` starts it, with the texting settings of one test."""

    def __init__(self, data_dir: Path, env: dict) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_DB_URL", "SMS_DB_URL", "OUTBOX_DB_URL")}
        self.env.update({"MILEA_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "TWILIO_ACCOUNT_SID": SID,
                         "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER, "TEXTING_EVERY_S": "0.3",
                         "MILEA_OUTBOX_EVERY_S": "3600", **env})
        self.log_path = data_dir / f"jobs-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Jobs":
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        assert wait_for(lambda: "texting:" in self.log_path.read_text(), 30), self.log_path.read_text()
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture()
def world(tmp_path):
    api = FakeTwilioApi(SID, TOKEN).start()
    emulator = EmulatorServer(None).start()
    console = Console(tmp_path, {"C7_API_URL": emulator.url, "MILEA_NOW": NIGHT}).start()
    Tracker(tmp_path / "tracker.db")
    started: list[Jobs] = []

    def jobs(**env: str) -> Jobs:
        running = Jobs(tmp_path, {"TWILIO_API_BASE_URL": api.url, "C7_API_URL": emulator.url, **env}).start()
        started.append(running)
        return running

    world = {"api": api, "console": console, "jobs": jobs, "ledger": ConsentLedger(f"sqlite:///{tmp_path / 'sms.db'}"),
             "admin": {"Authorization": f"Bearer {console.token(*ADMIN)}"}}
    yield world
    for running in started:
        running.stop()
    console.stop()
    emulator.stop()
    api.stop()


def campaign(world, audience, text="The club party is Saturday at 6 PM!") -> str:
    url, admin = world["console"].url, world["admin"]
    created = requests.post(f"{url}/api/campaigns", json={"name": "t", "text": text, "audience": audience,
                                                          "send_at": None}, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert requests.post(f"{url}/api/campaigns/{campaign_id}/send", headers=admin, timeout=10).status_code == 200
    return campaign_id


def report(world, campaign_id: str) -> dict:
    return requests.get(f"{world['console'].url}/api/campaigns/{campaign_id}", headers=world["admin"],
                        timeout=10).json()


def test_killing_the_jobs_process_mid_campaign_sends_every_message_once(world):
    api = world["api"]
    numbers = [f"+1555010{n:04d}" for n in range(40)]
    world["ledger"].import_numbers([(n, "test sheet", "2026-11-01") for n in numbers], "test")
    campaign_id = campaign(world, "all")
    api.delay = 0.4  # each POST is answered late: the kill below lands while one is in flight
    first = world["jobs"](CAMPAIGN_RATE_PER_S="20", CAMPAIGN_QUIET_HOURS="off", CAMPAIGN_WEEKLY_CAP="5")
    assert wait_for(lambda: len(api.messages) >= 8, 60)
    # wait until a POST reached Twilio and is still unanswered, then kill the process at once
    assert wait_for(lambda: api.arrived > len(api.messages), 10, 0.005)
    first.kill()
    time.sleep(api.delay + 0.3)  # Twilio finishes that request: the message exists, the jobs process never knew
    in_flight_sent = len(api.messages)
    assert 8 <= in_flight_sent < len(numbers)
    api.delay = 0.0
    port = free_port()
    second = world["jobs"](CAMPAIGN_RATE_PER_S="20", CAMPAIGN_QUIET_HOURS="off", CAMPAIGN_WEEKLY_CAP="5",
                           JOBS_PORT=str(port))
    assert wait_for(lambda: report(world, campaign_id)["status"] == "done", 60), report(world, campaign_id)
    for number in numbers:
        assert len(api.sent_to(number)) == 1, number
    assert len(api.messages) == len(numbers)
    assert all(m["body"] == "The club party is Saturday at 6 PM! Reply STOP to opt out." for m in api.messages)
    got = report(world, campaign_id)
    assert got["sent"] == len(numbers) and got["skipped"] == 0 and got["failed"] == 0
    log = second.log_path.read_text()
    assert "texts in flight when the jobs process stopped: {'sent': 1}" in log, log[-2000:]
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert f'milea_texts{{kind="campaign",status="sent"}} {float(len(numbers))}' in metrics


def test_quiet_hours_hold_and_a_number_that_never_opted_in_gets_nothing(world):
    api = world["api"]
    world["ledger"].opt_in(JORDAN, "sms", "JOIN", "sms keyword")  # Priya, also a club member, never opted in
    campaign_id = campaign(world, {"club_members": True})
    night = world["jobs"](MILEA_NOW=NIGHT, CAMPAIGN_RATE_PER_S="5")  # default quiet hours 21-9 New York
    assert wait_for(lambda: report(world, campaign_id)["status"] == "sending", 30)
    time.sleep(3)
    assert api.messages == []
    got = report(world, campaign_id)
    # Jordan waits for the morning; every other member with a phone (Priya among them) is counted, not texted
    assert got["queued"] == 1 and got["skipped_by_reason"]["not_opted_in"] >= 1 and got["skipped"] == \
        got["recipients"] - 1
    assert got["quiet_until"] == "09:00 EST"  # the console shows why it waits (it reads the same MILEA_NOW)
    night.stop()
    world["jobs"](MILEA_NOW=DAY, CAMPAIGN_RATE_PER_S="5")
    assert wait_for(lambda: report(world, campaign_id)["status"] == "done", 30)
    assert [m["to"] for m in api.messages] == [JORDAN]
    assert api.sent_to(PRIYA) == []
    got = report(world, campaign_id)
    assert got["sent"] == 1 and set(got["skipped_by_reason"]) == {"not_opted_in"}


def test_the_rate_is_held(world):
    api = world["api"]
    numbers = [f"+1555020{n:04d}" for n in range(12)]
    world["ledger"].import_numbers([(n, "test sheet", "2026-11-01") for n in numbers], "test")
    campaign(world, "all")
    world["jobs"](CAMPAIGN_RATE_PER_S="4", CAMPAIGN_QUIET_HOURS="off")
    assert wait_for(lambda: len(api.messages) == len(numbers), 30)
    times = sorted(time.mktime(time.strptime(m["date_created"][:25], "%a, %d %b %Y %H:%M:%S")) for m in api.messages)
    # 12 messages at 4 a second take at least 11/4 s (second-resolution stamps: allow one second)
    assert times[-1] - times[0] >= 11 / 4 - 1
