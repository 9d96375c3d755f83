"""Texts the winery starts, through the whole assistant as `make run` starts it: signed Twilio requests in,
the fake Twilio REST API out, the Commerce7 emulator's own web hooks, the console's JSON API.

- SMS keywords change consent, each change in the audit trail; HELP says who we are and how to stop;
- STOP in the middle of a campaign stops the rest for that number; Twilio's signed status callbacks count
  delivered and failed; a reply to a campaign lands in the customer's conversation and is answered;
- Commerce7 events text opted-in customers once (a replayed web hook texts nobody again), never the others;
  a club-shipment text's numbered reply is recorded and answered.
"""
from __future__ import annotations

import csv
import io
import random
import uuid

import pytest
import requests
from twilio.request_validator import RequestValidator

from core.paths import ROOT
from tests.console.helpers import wait_for
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.stack import Stack

SID, TOKEN, NUMBER = "AC_outreach_0123456789ab", "outreach-auth-token-01", "+15550003333"
HOOK_USER, HOOK_PASSWORD = "c7-hooks", "c7-hook-password-0123456789"
ADMIN = ("owner@milea.test", "owner-password-123")
JORDAN, PRIYA = "+15551234567", "+15559876543"  # seeded: Grand Prix (pickup) and Jumper members


@pytest.fixture(scope="module")
def api():
    fake = FakeTwilioApi(SID, TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(api, tmp_path_factory):
    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` before the integration tests")
    running = Stack(tmp_path_factory.mktemp("outreach"), {
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER, "TWILIO_API_BASE_URL": api.url,
        "C7_WEBHOOK_USER": HOOK_USER, "C7_WEBHOOK_PASSWORD": HOOK_PASSWORD,
        "CAMPAIGN_RATE_PER_S": "3", "CAMPAIGN_QUIET_HOURS": "off", "TEXTING_EVERY_S": "0.5",
        "STAFF_ADMIN_EMAIL": ADMIN[0], "STAFF_ADMIN_PASSWORD": ADMIN[1],
        "MILEA_NOW": "2026-11-27T14:00:00-05:00",
    }).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def console(stack):
    url = f"http://127.0.0.1:{stack.console_port}"
    assert wait_for(lambda: _up(url), 60)
    token = requests.post(f"{url}/api/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=10).json()["token"]
    return url, {"Authorization": f"Bearer {token}"}


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def phone() -> str:
    return "+1555" + "".join(random.choices("0123456789", k=7))


def signed(stack: Stack, path: str, params: dict, token: str = TOKEN) -> requests.Response:
    url = f"{stack.url}{path}"
    signature = RequestValidator(token).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def text(stack: Stack, sender: str, body: str) -> None:
    sid = f"SM{uuid.uuid4().hex}"
    response = signed(stack, "/webhooks/twilio/webhook", {
        "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": SID, "From": sender, "To": NUMBER, "Body": body,
        "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"})
    assert response.status_code == 200, response.text


def settled(stack: Stack, api: FakeTwilioApi, sender: str) -> list[str]:
    """Bodies sent to `sender` once everything before a HELP sent now was handled (one number, in order)."""
    before = len(api.sent_to(sender))
    text(stack, sender, "help")
    found = api.wait_for(sender, before + 1, 30)
    assert "STOP" in found[-1]["body"] and "Milea" in found[-1]["body"]
    return [m["body"] for m in found[:-1]]


def audit(console) -> list[dict]:
    url, admin = console
    return list(csv.DictReader(io.StringIO(requests.get(f"{url}/admin/consent.csv", headers=admin, timeout=10).text)))


def test_sms_keywords_change_consent_and_every_change_is_kept(stack, api, console):
    customer = phone()
    text(stack, customer, "JOIN")
    [welcome] = [m["body"] for m in api.wait_for(customer, 1, 30)]
    assert "subscribed" in welcome and "STOP" in welcome
    text(stack, customer, "STOP")

    def trail() -> list:
        return [(r["status"], r["channel"], r["words"]) for r in audit(console) if r["phone"] == customer]

    assert wait_for(lambda: len(trail()) == 2, 30)
    assert trail() == [("in", "sms", "JOIN"), ("out", "sms", "STOP")]
    text(stack, customer, "what are your hours?")  # an opted-out number is not answered
    assert len(api.wait_for(customer, 2, 5)) == 1  # STOP itself is confirmed by the carrier, not by us
    # an import never brings a number that said STOP back
    url, admin = console
    result = requests.post(f"{url}/api/consent/import", json={"rows": [
        {"phone": customer, "source": "old list", "date": "2025-01-01"}]}, headers=admin, timeout=10).json()
    assert result["kept_out"] == 1


def test_yes_to_the_opt_in_question_opts_in_and_only_a_number_that_texted_can_be_asked(stack, api, console):
    url, admin = console
    stranger = phone()
    cold = requests.post(f"{url}/api/consent/ask", json={"phone": stranger}, headers=admin, timeout=10)
    assert cold.status_code == 409 and "texted the winery" in cold.json()["error"]
    assert requests.post(f"{url}/api/consent/ask", json={"phone": "call me"}, headers=admin, timeout=10).status_code == 400
    customer = phone()
    text(stack, customer, "YES")  # a yes nobody asked for is just a message to the assistant
    api.wait_for(customer, 1, 30)
    assert [r for r in audit(console) if r["phone"] == customer] == []

    def ask() -> bool:  # once the console has seen the SMS conversation
        return requests.post(f"{url}/api/consent/ask", json={"phone": customer}, headers=admin,
                             timeout=10).status_code == 200

    assert wait_for(ask, 30)
    question = api.wait_for(customer, 2, 30)[-1]["body"]
    assert "Reply YES" in question and "STOP" in question
    text(stack, customer, "yes")
    assert "subscribed" in api.wait_for(customer, 3, 30)[-1]["body"]
    assert [(r["status"], r["words"], r["source"]) for r in audit(console) if r["phone"] == customer] == [
        ("in", "yes", "yes to the opt-in question")]
    again = requests.post(f"{url}/api/consent/ask", json={"phone": customer}, headers=admin, timeout=10)
    assert again.status_code == 409


def test_stop_mid_campaign_status_callbacks_and_the_reply_in_the_thread(stack, api, console):
    url, admin = console
    numbers = sorted(phone() for _ in range(12))
    result = requests.post(f"{url}/api/consent/import", json={"rows": [
        {"phone": n, "source": "test sheet", "date": "2026-11-01"} for n in numbers]}, headers=admin, timeout=10)
    assert result.json()["opted_in"] == len(numbers)
    created = requests.post(f"{url}/api/campaigns", json={"name": "Storm", "text": "We're closed today for the storm.",
                                                          "audience": "all", "send_at": None}, headers=admin, timeout=10)
    campaign_id = created.json()["id"]
    assert requests.post(f"{url}/api/campaigns/{campaign_id}/send", headers=admin, timeout=10).status_code == 200
    assert api.wait_for(numbers[0], 1, 60), "the campaign did not start"
    victim = numbers[-1]  # recipients go out in order: the last one is still waiting at 3 a second
    text(stack, victim, "STOP")

    def report() -> dict:
        return requests.get(f"{url}/api/campaigns/{campaign_id}", headers=admin, timeout=10).json()

    assert wait_for(lambda: report()["status"] == "done", 90), report()
    assert all(len([m for m in api.sent_to(n) if "storm" in m["body"]]) == 1 for n in numbers[:-1])
    assert [m for m in api.sent_to(victim) if "storm" in m["body"]] == []
    got = report()
    assert got["skipped_by_reason"].get("opted_out") == 1 and got["opted_out_since"] == 1

    # Twilio's status callbacks, signed like the inbound webhook
    sids = [next(m["sid"] for m in api.sent_to(n) if "storm" in m["body"]) for n in numbers[:2]]
    callback = {"MessageSid": sids[0], "MessageStatus": "delivered", "AccountSid": SID, "To": numbers[0]}
    assert signed(stack, "/webhooks/twilio/status", callback, token="forged").status_code == 403
    assert signed(stack, "/webhooks/twilio/status", callback).status_code == 204
    assert signed(stack, "/webhooks/twilio/status", {"MessageSid": sids[1], "MessageStatus": "undelivered",
                                                     "ErrorCode": "30003", "AccountSid": SID}).status_code == 204
    got = report()
    # "all" is every opted-in number: these, and those other tests opted in; only the victim was skipped
    assert got["delivered"] == 1 and got["failed"] == 1 and got["sent"] == got["recipients"] - 1

    # the reply lands in that customer's conversation, after the campaign text, and the assistant answers it
    text(stack, numbers[0], "are you open right now?")
    answer = api.wait_for(numbers[0], 2, 60)
    assert "open" in answer[-1]["body"].lower()
    conversation = requests.get(f"{url}/api/conversations/{numbers[0]}", headers=admin, timeout=10)
    assert conversation.status_code == 200
    transcript = str(conversation.json())
    assert "closed today for the storm" in transcript and "are you open right now?" in transcript


def test_commerce7_events_text_opted_in_customers_once(stack, api, console):
    c7 = requests.Session()
    c7.auth, c7.headers["tenant"] = ("demo-app", "demo-secret"), "milea-demo"
    base = f"http://127.0.0.1:{stack.c7_port}/v1"
    ids = {p: c7.get(f"{base}/customer", params={"q": p[-7:]}, timeout=10).json()["customers"][0]["id"]
           for p in (JORDAN, PRIYA)}
    text(stack, JORDAN, "START")  # Jordan opts in by text; Priya never does
    api.wait_for(JORDAN, 1, 30)
    before = {p: len(api.sent_to(p)) for p in (JORDAN, PRIYA)}
    orders = {p: c7.post(f"{base}/order", json={"customerId": ids[p], "orderDeliveryMethod": "Pickup"},
                         timeout=10).json() for p in (JORDAN, PRIYA)}
    for p, order in orders.items():
        ready = c7.put(f"{base}/order/{order['id']}", json={"pickupStatus": "Ready For Pickup"}, timeout=10)
        assert ready.status_code == 200
    texts = api.wait_for(JORDAN, before[JORDAN] + 1, 60)
    assert f"order #{orders[JORDAN]['orderNumber']} is ready for pickup" in texts[-1]["body"]

    # a replay of that delivery (same object, action and updatedAt) is acknowledged and changes nothing
    hook = f"{stack.url}/webhooks/commerce7"
    order = c7.get(f"{base}/order/{orders[JORDAN]['id']}", timeout=10).json()
    body = {"object": "Order", "action": "Update", "payload": order, "user": "demo", "tenantId": "milea-demo"}
    replay = requests.post(hook, json=body, auth=(HOOK_USER, HOOK_PASSWORD), timeout=10)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert requests.post(hook, json=body, auth=(HOOK_USER, "wrong"), timeout=10).status_code == 401
    assert requests.post(hook, json=body, timeout=10).status_code == 401
    assert requests.post(hook, data=b"[1]", auth=(HOOK_USER, HOOK_PASSWORD), timeout=10).status_code == 400
    # a delivery is only a hint: an order Commerce7 does not have, "for" an opted-in number, texts nobody
    forged = {"object": "Order", "action": "Update", "tenantId": "milea-demo", "user": "x", "payload": {
        "id": "no-such-order", "orderNumber": 666, "pickupStatus": "Ready For Pickup", "orderDeliveryMethod": "Pickup",
        "updatedAt": "2026-12-01T00:00:00Z", "customer": {"firstName": "Win a prize at http://evil.example",
                                                          "phones": [{"phone": JORDAN}]}}}
    assert requests.post(hook, json=forged, auth=(HOOK_USER, HOOK_PASSWORD), timeout=10).json()["duplicate"] is False
    # the same order touched again (a new updatedAt) is a new event, but "ready for pickup" was texted already
    c7.put(f"{base}/order/{orders[JORDAN]['id']}", json={"paymentStatus": "Paid"}, timeout=10)

    # shipped with tracking
    shipped = c7.put(f"{base}/order/{orders[JORDAN]['id']}", json={"orderDeliveryMethod": "Ship", "fulfillments": [
        {"type": "Shipped", "carrier": "UPS", "trackingNumbers": ["1Z999AA10123456784"]}]}, timeout=10)
    assert shipped.status_code == 200
    texts = api.wait_for(JORDAN, before[JORDAN] + 2, 60)
    assert "1Z999AA10123456784" in texts[-1]["body"] and "UPS" in texts[-1]["body"]

    # club shipment processing soon, with a reply path
    grand_prix = next(c["id"] for c in c7.get(f"{base}/club", timeout=10).json()["clubs"] if c["title"] == "Grand Prix")
    c7.post(f"{base}/club-package", json={"clubId": grand_prix, "processDate": "2026-12-04"}, timeout=10)
    texts = api.wait_for(JORDAN, before[JORDAN] + 3, 60)
    assert "Grand Prix shipment" in texts[-1]["body"] and "Reply 1" in texts[-1]["body"]
    text(stack, JORDAN, "2")
    texts = api.wait_for(JORDAN, before[JORDAN] + 4, 60)
    assert "pick up your Grand Prix shipment" in texts[-1]["body"]
    url, admin = console
    page = requests.get(f"{url}/admin/campaigns", headers=admin, timeout=10).text
    assert "pick up" in page and JORDAN in page

    assert not any("666" in m["body"] or "evil" in m["body"] for m in api.sent_to(JORDAN))
    # Priya never opted in: nothing, ever; counted on the campaigns page
    assert settled(stack, api, JORDAN)[before[JORDAN]:] == [m["body"] for m in texts[before[JORDAN]:]]
    assert len(api.sent_to(PRIYA)) == before[PRIYA]
    assert f"order:{orders[PRIYA]['id']}:ready" in page and "not_opted_in" in page


def test_odd_web_hooks_and_callbacks_get_a_4xx_never_a_5xx(stack):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                               lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=3), max_leaves=8)
    bodies = st.one_of(json_values, st.fixed_dictionaries({
        "object": st.one_of(st.text(max_size=70), json_values), "action": st.one_of(st.text(max_size=70), json_values),
        "payload": st.one_of(json_values, st.fixed_dictionaries({"id": st.one_of(st.text(max_size=140), json_values),
                                                                 "updatedAt": json_values})),
        "tenantId": st.one_of(st.just("milea-demo"), st.text(max_size=10), json_values)}))
    forms = st.dictionaries(st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "SmsSid", "To", "x"]),
                            st.text(max_size=80), max_size=5)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies, form=forms)
    def check(body, form):
        hook = requests.post(f"{stack.url}/webhooks/commerce7", json=body, auth=(HOOK_USER, HOOK_PASSWORD), timeout=10)
        assert hook.status_code < 500, (body, hook.text)
        callback = signed(stack, "/webhooks/twilio/status", form)
        assert callback.status_code < 500, (form, callback.text)

    check()
