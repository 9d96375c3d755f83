"""Needs attention: the Commerce7 outbox's waiting and refused jobs, with retry and cancel; text
messages the SMS channel could not send, with dismiss."""
from __future__ import annotations

import time

import requests

from core.commerce7.outbox import Outbox
from channels.sms_store import SmsStore
from tests.console.helpers import ADMIN, STAFF, console  # noqa: F401 - fixture


def test_waiting_and_refused_jobs_with_retry_and_cancel(console):
    outbox = Outbox(console.data_dir / "outbox.db")
    waiting = outbox.enqueue("club_signup", "k-wait", {"email": "wait@example.com"}, "Commerce7 timed out")
    refused = outbox.enqueue("subscribe", "k-refused", {"email": "refused@example.com"})
    outbox.mark_attention(refused, "Commerce7 said 422: email is not valid")
    done = outbox.enqueue("club_signup", "k-done", {"email": "done@example.com"})
    outbox.mark_done(done, {"id": "c7-1"})

    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {console.token(*STAFF)}"
    listed = {j["customer"]: j for j in s.get(f"{console.url}/api/attention", timeout=10).json()["outbox"]}
    assert set(listed) == {"wait@example.com", "refused@example.com"}
    assert listed["refused@example.com"]["status"] == "refused"
    assert "422" in listed["refused@example.com"]["reason"]
    assert listed["wait@example.com"]["status"] == "waiting"

    assert s.post(f"{console.url}/api/attention/{refused.id}/retry", timeout=10).status_code == 200
    again = outbox.get("k-refused")
    assert again.status == "pending" and again.next_attempt_at <= time.time()
    assert [j.id for j in outbox.due()] == [refused.id]  # the deliverer picks it up at once

    assert s.post(f"{console.url}/api/attention/{waiting.id}/cancel", timeout=10).status_code == 200
    assert outbox.get("k-wait").status == "cancelled"
    assert waiting.id not in [j.id for j in outbox.due(now=time.time() + 10 ** 6)]  # never delivered
    gone = s.post(f"{console.url}/api/attention/{waiting.id}/retry", timeout=10)
    assert gone.status_code == 409 and "no longer waiting" in gone.json()["error"]
    assert s.post(f"{console.url}/api/attention/{done.id}/cancel", timeout=10).status_code == 409

    browser = console.browser_session(*ADMIN)
    page = browser.get(f"{console.url}/attention", timeout=10).text
    assert "refused@example.com" in page and "wait@example.com" not in page
    r = browser.post(f"{console.url}/attention/{refused.id}/cancel", data={"csrf": browser.csrf}, timeout=10)
    assert r.status_code == 200 and "Cancelled." in r.text and "Nothing needs attention." in r.text


def test_sms_that_could_not_be_sent_are_listed_until_dismissed(console):
    # what the SMS channel's sender records when Twilio would not take a reply after its retries
    # (the sender itself is exercised end to end in tests/integration/test_twilio_channel.py)
    store = SmsStore(console.data_dir / "sms.db")
    store.record_failed("+15557770001", "HTTP 500 (Twilio code 20500), after 4 attempt(s)")

    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {console.token(*STAFF)}"
    [failed] = s.get(f"{console.url}/api/attention", timeout=10).json()["sms_failed"]
    assert failed["phone"] == "+15557770001"  # staff need the whole number to reach the customer
    assert "HTTP 500" in failed["reason"] and "4 attempt(s)" in failed["reason"]
    assert time.time() - 60 < failed["failed_at"] <= time.time()

    browser = console.browser_session(*STAFF)
    page = browser.get(f"{console.url}/attention", timeout=10).text
    assert "Text messages that could not be sent" in page and "+15557770001" in page and "HTTP 500" in page
    forged = browser.post(f"{console.url}/attention/sms/{failed['id']}/dismiss", data={"csrf": "wrong"}, timeout=10)
    assert forged.status_code == 403
    r = browser.post(f"{console.url}/attention/sms/{failed['id']}/dismiss", data={"csrf": browser.csrf}, timeout=10)
    assert r.status_code == 200 and "Dismissed." in r.text and "Every text message went out." in r.text
    assert s.get(f"{console.url}/api/attention", timeout=10).json()["sms_failed"] == []
    again = s.post(f"{console.url}/api/attention/sms/{failed['id']}/dismiss", timeout=10)
    assert again.status_code == 409 and "already dismissed" in again.json()["error"]
