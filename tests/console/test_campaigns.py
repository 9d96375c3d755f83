"""Campaigns and SMS consent in the console over HTTP (a console started as `make run` starts it, the
Commerce7 emulator for audiences): admins only, the JSON API the issue names, the preview's segments and
cost, the consent import and its CSV audit trail."""
from __future__ import annotations

import csv
import io

import pytest
import requests

from commerce7_demo.emulator import EmulatorServer
from tests.console.helpers import ADMIN, STAFF, Console, Tracker

JORDAN, PRIYA = "+15551234567", "+15559876543"  # seeded: Grand Prix member, Jumper member


@pytest.fixture(scope="module")
def emulator():
    server = EmulatorServer(None).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def console(tmp_path_factory, emulator):
    data = tmp_path_factory.mktemp("campaign-console")
    tracker = Tracker(data / "tracker.db")
    running = Console(data, {"C7_API_URL": emulator.url, "SMS_COST_PER_SEGMENT": "0.01",
                             "CAMPAIGN_WEEKLY_CAP": "3"}).start()
    running.add_user(*STAFF)
    running.tracker = tracker
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(console):
    return {"Authorization": f"Bearer {console.token(*ADMIN)}"}


def test_only_admins_reach_campaigns_and_consent(console):
    staff = {"Authorization": f"Bearer {console.token(*STAFF)}"}
    for method, path in (("post", "/api/campaigns"), ("get", "/api/campaigns/x"), ("post", "/api/campaigns/x/send"),
                         ("get", "/api/consent"), ("post", "/api/consent/import")):
        response = getattr(requests, method)(console.url + path, json={}, headers=staff, timeout=10)
        assert response.status_code == 403, (path, response.text)
    browser = console.browser_session(*STAFF)
    assert browser.get(f"{console.url}/admin/campaigns", timeout=10).status_code == 403
    assert browser.get(f"{console.url}/admin/consent.csv", timeout=10).status_code == 403
    assert "Campaigns" not in browser.get(f"{console.url}/", timeout=10).text
    assert requests.post(f"{console.url}/api/campaigns", json={}, timeout=10).status_code == 401


def test_bad_campaigns_get_a_clear_400(console, admin):
    for body in ({"name": "x", "text": "hi", "audience": "everyone"}, {"name": "", "text": "hi", "audience": "all"},
                 {"name": "x", "text": "", "audience": "all"}, {"name": "x", "text": "hi", "audience": "all",
                                                                 "send_at": "tomorrow"}, [1, 2]):
        response = requests.post(f"{console.url}/api/campaigns", json=body, headers=admin, timeout=10)
        assert response.status_code == 400 and response.json()["error"], body
    response = requests.post(f"{console.url}/api/campaigns", data=b"{not json", headers=admin, timeout=10)
    assert response.status_code == 400
    assert requests.get(f"{console.url}/api/campaigns/nope", headers=admin, timeout=10).status_code == 404
    assert requests.post(f"{console.url}/api/campaigns/nope/send", headers=admin, timeout=10).status_code == 404


def test_consent_import_never_overrides_and_the_audit_trail_exports(console, admin):
    rows = [{"phone": JORDAN, "source": "tasting room sign-up sheet", "date": "2026-10-04"},
            {"phone": "(555) 987-6543", "source": "club card", "date": "2026-09-01"},
            {"phone": "nonsense", "source": "x", "date": "2026-09-01"}]
    result = requests.post(f"{console.url}/api/consent/import", json={"rows": rows}, headers=admin, timeout=10).json()
    assert result["opted_in"] == 2 and len(result["invalid"]) == 1
    again = requests.post(f"{console.url}/api/consent/import", json={"rows": rows[:1]}, headers=admin, timeout=10)
    assert again.json()["already_in"] == 1
    browser = console.browser_session(*ADMIN)
    page = browser.get(f"{console.url}/admin/consent", timeout=10).text
    assert "tasting room sign-up sheet" in page and "2</strong> numbers opted in" in page
    exported = browser.get(f"{console.url}/admin/consent.csv", timeout=10)
    assert exported.headers["content-type"].startswith("text/csv")
    trail = list(csv.DictReader(io.StringIO(exported.text)))
    assert {(r["phone"], r["status"], r["channel"], r["source"]) for r in trail} == {
        (JORDAN, "in", "import", "tasting room sign-up sheet"), (PRIYA, "in", "import", "club card")}
    assert all(r["by"] == f"import by {ADMIN[0]}" and r["consented_at_utc"] for r in trail)


def test_the_api_creates_sends_and_reports_a_campaign(console, admin):
    body = {"name": "Club party", "text": "The club party is Saturday at 6 PM!", "audience": {"tier": "Grand Prix"},
            "send_at": None}
    created = requests.post(f"{console.url}/api/campaigns", json=body, headers=admin, timeout=10)
    assert created.status_code == 201
    campaign_id = created.json()["id"]
    estimate = requests.get(f"{console.url}/api/campaigns/{campaign_id}/estimate", headers=admin, timeout=30).json()
    assert estimate["recipients"] == 1 and estimate["segments"] == 1 and estimate["cost_usd"] == 0.01
    assert estimate["body"] == "The club party is Saturday at 6 PM! Reply STOP to opt out."
    got = requests.get(f"{console.url}/api/campaigns/{campaign_id}", headers=admin, timeout=10).json()
    assert got["status"] == "draft" and got["audience"] == {"tier": "Grand Prix"} and got["sent"] == 0
    sent = requests.post(f"{console.url}/api/campaigns/{campaign_id}/send", headers=admin, timeout=10)
    assert sent.status_code == 200 and sent.json()["status"] == "scheduled"
    again = requests.post(f"{console.url}/api/campaigns/{campaign_id}/send", headers=admin, timeout=10)
    assert again.status_code == 409
    got = requests.get(f"{console.url}/api/campaigns/{campaign_id}", headers=admin, timeout=10).json()
    assert got["status"] == "scheduled" and ADMIN[0] in got["sent_by"] and got["send_at"]
    for key in ("sent", "delivered", "failed", "skipped", "skipped_by_reason", "opted_out_since"):
        assert key in got


def test_the_compose_page_previews_segments_cost_and_the_audience(console):
    browser = console.browser_session(*ADMIN)
    page = browser.get(f"{console.url}/admin/campaigns", timeout=10).text
    assert 'name="text"' in page and "Everyone opted in" in page and "/static/campaigns.js" in page
    assert "Texting is off" in page  # this console has no Twilio account: it says so
    response = browser.post(f"{console.url}/admin/campaigns", data={
        "csrf": browser.csrf, "name": "Storm", "text": "We’re closed today for the storm — stay safe! 🌧",
        "audience": "club_members", "audience_value": "", "send_at": ""}, timeout=30)
    assert response.status_code == 200 and "/admin/campaigns/" in response.url
    preview = response.text
    assert "UCS-2" in preview and "Send now" in preview
    assert "<strong>2</strong> opted-in recipients now" in preview  # both seeded members opted in above
    no_csrf = browser.post(f"{console.url}/admin/campaigns", data={"name": "x", "text": "y", "audience": "all"},
                           timeout=10, allow_redirects=False)
    assert no_csrf.status_code == 403
    sent = browser.post(response.url + "/send", data={"csrf": browser.csrf}, timeout=10)
    assert "Scheduled" in sent.text and "sent by" in sent.text


def test_a_scheduled_campaign_keeps_the_winery_time_it_was_given(console, admin):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    when = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=2)).replace(hour=17, minute=0, second=0,
                                                                                    microsecond=0)
    body = {"name": "Party", "text": "Party at 6!", "audience": "all", "send_at": when.strftime("%Y-%m-%dT%H:%M")}
    created = requests.post(f"{console.url}/api/campaigns", json=body, headers=admin, timeout=10)
    assert created.status_code == 201
    got = requests.get(f"{console.url}/api/campaigns/{created.json()['id']}", headers=admin, timeout=10).json()
    assert got["send_at"] == when.timestamp() and got["status"] == "draft"
    far = requests.post(f"{console.url}/api/campaigns", json={**body, "send_at": "2099-01-01T10:00"}, headers=admin,
                        timeout=10)
    assert far.status_code == 400 and "within a year" in far.json()["error"]
    utc = requests.post(f"{console.url}/api/campaigns", json={**body, "send_at": when.astimezone(
        ZoneInfo("UTC")).isoformat()}, headers=admin, timeout=10)
    assert requests.get(f"{console.url}/api/campaigns/{utc.json()['id']}", headers=admin,
                        timeout=10).json()["send_at"] == when.timestamp()
