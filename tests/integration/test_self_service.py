"""Customer self-service (issue 23) through the real channels, against the Commerce7 emulator: the proven
owner (a signed website token over REST and socket.io, a signed Twilio request from the phone on exactly
one account) gets their orders, membership, details and points history, and makes changes that are read
back, confirmed and written once; anyone else gets the proof step and nothing of the account. A change
Commerce7 refuses, and a cancel request, show in the console's Needs attention."""
from __future__ import annotations

import queue
import re
import time
import uuid

import pytest
import requests
from twilio.request_validator import RequestValidator

from actions.identity import sign_token
from core.paths import ROOT
from tests.console.helpers import ADMIN, free_port, wait_for
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.stack import Commerce7View, Stack, texts
from tests.security.clients import web_client

SECRET = "self-service-token-secret"
SID, TOKEN, NUMBER, STAFF_PHONE = "AC_selfservice_0123456", "selfservice-token-0123", "+15550004444", "+15550005555"
PRIYA, JORDAN, MORGAN, SAM = ("priya.shah@example.com", "jordan.rivera@example.com", "morgan.lee@example.com",
                              "sam.whitaker@example.com")
PRIYA_PHONE = "+15559876543"
# What nobody but the owner may hear (Priya's orders, tracking, tier, balance; Jordan's pickup order).
PRIVATE = ("2052", "2039", "1Z999AA10123456784", "1,850", "Jumper member", "2047", "Rhinebeck", "p***@")


@pytest.fixture(scope="module")
def twilio():
    fake = FakeTwilioApi(SID, TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(twilio, tmp_path_factory):
    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` before the integration tests")
    port = free_port()
    running = Stack(tmp_path_factory.mktemp("self-service"), {
        "CUSTOMER_TOKEN_SECRET": SECRET, "MILEA_NOW": "2026-11-27T14:00:00-05:00", "MILEA_OUTBOX_EVERY_S": "2",
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER,
        "TWILIO_API_BASE_URL": twilio.url, "STAFF_PHONE": STAFF_PHONE,
        "CONSOLE_PORT": str(port), "CONSOLE_URL": f"http://127.0.0.1:{port}",
        "STAFF_ADMIN_EMAIL": ADMIN[0], "STAFF_ADMIN_PASSWORD": ADMIN[1],
    }).start()
    running.console_url = f"http://127.0.0.1:{port}"
    assert wait_for(lambda: _up(running.console_url), timeout=60), "the console did not start"
    yield running
    running.stop()


@pytest.fixture(scope="module")
def c7(stack):
    return Commerce7View(stack)


@pytest.fixture(scope="module")
def console(stack):
    s = requests.Session()
    r = s.post(f"{stack.console_url}/api/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return s


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def user() -> str:
    return f"ss-{uuid.uuid4().hex[:10]}"


def token_for(c7: Commerce7View, email: str) -> str:
    return sign_token({"sub": c7.customer(email)["id"], "exp": time.time() + 600}, SECRET)


def say(stack: Stack, sender: str, message: str, token: str | None = None) -> str:
    body: dict = {"sender": sender, "message": message}
    if token:
        body["metadata"] = {"customer_token": token}
    response = stack.post(body)
    response.raise_for_status()
    return texts(response.json())


def chat(stack: Stack, sender: str, token: str | None, *messages: str) -> list[str]:
    return [say(stack, sender, m, token) for m in messages]


def private_in(said: str) -> list[str]:
    return [p for p in PRIVATE if p in said]


def sms(stack: Stack, phone: str, body: str) -> None:
    url = f"{stack.url}/webhooks/twilio/webhook"
    sid = f"SM{uuid.uuid4().hex}"
    params = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": SID, "From": phone, "To": NUMBER, "Body": body,
              "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30).status_code == 200


def sms_reply(twilio: FakeTwilioApi, phone: str, before: int) -> str:
    bodies = [m["body"] for m in twilio.wait_for(phone, before + 1, 30)]
    assert len(bodies) > before, f"no SMS reply to {phone}"
    return " ".join(bodies[before:])


def puts(stack: Stack, path_part: str) -> int:
    log = requests.get(f"http://127.0.0.1:{stack.c7_port}/__admin/requests", timeout=10).json()["requests"]
    return sum(1 for r in log if r["method"] == "PUT" and path_part in r["path"])


# ---------------------------------------------------------------- orders

def test_the_owner_hears_their_orders_with_tracking_and_a_stranger_gets_only_the_proof_step(stack, c7):
    owner = " ".join(chat(stack, user(), token_for(c7, PRIYA), "wheres my order?"))
    assert "#2052" in owner and "#2039" in owner
    assert "UPS" in owner and "https://www.ups.com/track?tracknum=1Z999AA10123456784" in owner
    assert "hasn't shipped yet" in owner and "$111.12" in owner
    stranger = " ".join(chat(stack, user(), None, "wheres my order?", "did my wine ship yet"))
    assert "your account" in stranger or "email address or mobile number" in stranger
    assert not private_in(stranger), stranger
    forged = sign_token({"sub": c7.customer(PRIYA)["id"], "exp": time.time() + 600}, "not-the-secret")
    assert not private_in(say(stack, user(), "where is my package", forged))


def test_a_pickup_order_names_the_place_and_the_hours(stack, c7):
    said = say(stack, user(), "is my order ready for pickup", token_for(c7, JORDAN))
    assert "#2047" in said and "ready for pickup" in said
    assert "Tasting Room" in said and "450 Hollow Rd" in said and "12:00 PM to 7:00 PM" in said
    assert "#2031" in said and "Picked up" in said


def test_a_broken_bottle_is_a_hand_off_with_the_order_attached(stack, c7, twilio):
    before = len(twilio.sent_to(STAFF_PHONE))
    said = say(stack, user(), "my bottle arrived broken", token_for(c7, MORGAN))
    assert "#2044" in said and "make it right" in said and "feedback" not in said.casefold()
    staff = sms_reply(twilio, STAFF_PHONE, before)
    assert "damaged" in staff and "#2044" in staff and "FedEx 794612345678" in staff


# ---------------------------------------------------------------- club

def test_membership_tier_since_delivery_and_next_package(stack, c7):
    said = say(stack, user(), "when is my next club shipment", token_for(c7, JORDAN))
    assert "Grand Prix member" in said and "Mar 15, 2023" in said and "pickup at" in said
    assert re.search(r"Mar 5, 20\d\d", said) and "Reserve Cabernet Franc" in said


def test_switch_to_pickup_is_read_back_confirmed_and_written_once(stack, c7):
    priya = c7.customer(PRIYA)
    token = token_for(c7, PRIYA)
    sender = user()
    before = puts(stack, "club-membership")
    readback = say(stack, sender, "switch my club shipments to pickup", token)
    assert "Switch your Jumper shipments to pickup at" in readback and "Shall I make this change?" in readback
    assert c7.memberships(priya["id"])[0]["orderDeliveryMethod"] == "Ship"   # nothing before the yes
    done = say(stack, sender, "yes", token)
    assert "Done!" in done and "pickup" in done
    [membership] = [m for m in c7.memberships(priya["id"]) if m["status"] == "Active"]
    assert membership["orderDeliveryMethod"] == "Pickup" and membership["pickupInventoryLocationId"]
    assert puts(stack, "club-membership") == before + 1
    # back to shipping, to the address on file (in an allowed state), after a yes
    assert "Ship your Jumper shipments to 18 Orchard St, Rhinebeck, NY 12572" in say(
        stack, sender, "please ship my club wines instead of pickup", token)
    assert "Done!" in say(stack, sender, "yes", token)
    assert c7.memberships(priya["id"])[0]["orderDeliveryMethod"] == "Ship"


def test_a_no_or_a_never_mind_changes_nothing(stack, c7):
    sender, token = user(), token_for(c7, PRIYA)
    before = puts(stack, "club-membership")
    assert "Shall I make this change?" in say(stack, sender, "change my club to pickup please", token)
    assert "left everything as it was" in say(stack, sender, "no", token)
    # Jordan picks up and has no address on file: shipping asks for one; "never mind" stops
    sender, token = user(), token_for(c7, JORDAN)
    assert "street address" in say(stack, sender, "please ship my club wine instead of pickup", token)
    assert "Nothing on your account was changed" in say(stack, sender, "never mind", token)
    assert puts(stack, "club-membership") == before
    assert c7.memberships(c7.customer(JORDAN)["id"])[0]["orderDeliveryMethod"] == "Pickup"


def test_an_address_change_commerce7_refuses_shows_in_needs_attention(stack, c7, console):
    morgan = c7.customer(MORGAN)
    ship_to = c7.memberships(morgan["id"])[0]["shipToCustomerAddressId"]
    sender, token = user(), token_for(c7, MORGAN)
    replies = chat(stack, sender, token, "can you change my club shipping address", "22 Market St",
                   "Beacon")
    assert "Which state" in replies[-1]
    assert "only ship club wine to" in say(stack, sender, "california", token)
    replies = chat(stack, sender, token, "NY", "12508")
    assert "Ship your Triple Crown shipments to 22 Market St, Beacon, NY 12508" in replies[-1]
    c7.faults(fail_next=1, fail_status=422, methods=["PUT"])
    refused = say(stack, sender, "yes", token)
    assert "didn't accept" in refused and "Done" not in refused
    assert c7.memberships(morgan["id"])[0]["shipToCustomerAddressId"] == ship_to   # refused: still the old one
    jobs = console.get(f"{stack.console_url}/api/attention", timeout=10).json()["outbox"]
    assert any(j["kind"] == "club_address" and j["status"] == "refused" and j["customer"] == MORGAN for j in jobs)
    page = console.get(f"{stack.console_url}/attention", timeout=10).text
    assert "Club ship-to address" in page


def test_cancel_is_a_staff_task_with_the_reason_and_nothing_is_cancelled(stack, c7, console):
    jordan = c7.customer(JORDAN)
    sender, token = user(), token_for(c7, JORDAN)
    asked = say(stack, sender, "please cancel my wine club", token)
    assert "skipping a shipment" in asked and "why" in asked
    done = say(stack, sender, "we are moving to arizona next month", token)
    assert "passed your request to cancel your Grand Prix membership" in done
    assert [m["status"] for m in c7.memberships(jordan["id"])] == ["Active"]
    jobs = console.get(f"{stack.console_url}/api/attention", timeout=10).json()["outbox"]
    task = next(j for j in jobs if j["kind"] == "club_cancel_request")
    assert task["status"] == "staff task" and "moving to arizona" in task["reason"]


def test_a_card_change_gets_the_secure_link_and_no_card_is_taken(stack):
    said = say(stack, user(), "my card was declined, can i give you my new card number")
    assert "never taken in chat" in said and "https://" in said


# ---------------------------------------------------------------- details and points

def test_details_are_masked_and_points_history_names_the_transactions(stack, c7):
    token = token_for(c7, PRIYA)
    details = say(stack, user(), "what email do you have for me", token)
    assert "p***@example.com" in details and "(***) ***-6543" in details and "priya.shah" not in details
    history = say(stack, user(), "how did i earn these points", token)
    assert "Jumper signup bonus" in history and "+1,750" in history and "1,850" in history


def test_a_new_phone_is_proven_by_a_code_sent_to_it_before_it_is_saved(stack, c7, twilio):
    sam = c7.customer(SAM)
    token = sign_token({"sub": sam["id"], "exp": time.time() + 600}, SECRET)
    sender, new = user(), "+1845555" + f"{uuid.uuid4().int % 10_000:04d}"
    assert "new email address or mobile number" in say(stack, sender, "i got a new cell number", token)
    sent = say(stack, sender, new.replace("+1", ""), token)
    assert "sent a 6-digit code" in sent
    code = re.search(r"\b(\d{6})\b", twilio.wait_for(new, 1, 30)[-1]["body"]).group(1)
    assert "doesn't match" in say(stack, sender, f"{(int(code) + 1) % 1_000_000:06d}", token)
    assert c7.customer(SAM)["phones"] == sam["phones"]     # nothing saved before the code and the yes
    readback = say(stack, sender, code, token)
    assert f"Change the phone number on your account to {new}" in readback
    assert "Done!" in say(stack, sender, "yes", token)
    assert [p["phone"] for p in c7.customer(SAM)["phones"]] == [new]


# ---------------------------------------------------------------- socket.io and SMS

def test_socketio_owner_and_stranger(stack, c7):
    def ask(token: str | None) -> str:
        sio, got, confirmed = web_client(stack)
        try:
            sio.emit("session_request", {"session_id": None})
            session = confirmed.get(timeout=10)
            message: dict = {"message": "did my wine ship?", "session_id": session}
            if token:
                message["metadata"] = {"customer_token": token}
            sio.emit("user_uttered", message)
            turn = [got.get(timeout=30).get("text", "")]
            while True:
                try:
                    turn.append(got.get(timeout=2).get("text", ""))
                except queue.Empty:
                    return " ".join(turn)
        finally:
            sio.disconnect()
    owner = ask(token_for(c7, PRIYA))
    assert "#2039" in owner and "1Z999AA10123456784" in owner
    stranger = ask(None)
    assert not private_in(stranger), stranger


def test_sms_from_the_phone_on_one_account_and_from_a_stranger(stack, twilio):
    before = len(twilio.sent_to(PRIYA_PHONE))
    sms(stack, PRIYA_PHONE, "wheres my wine")
    said = sms_reply(twilio, PRIYA_PHONE, before)
    assert "#2039" in said and "1Z999AA10123456784" in said
    stranger = "+1845555" + f"{uuid.uuid4().int % 10_000:04d}"
    sms(stack, stranger, "wheres my wine")
    reply = sms_reply(twilio, stranger, 0)
    assert "email address or mobile number" in reply and not private_in(reply)


# ---------------------------------------------------------------- the console beside a proven customer

def test_the_console_shows_the_proven_customers_commerce7_summary(stack, c7, console):
    sender = user()
    say(stack, sender, "whats my club status", token_for(c7, PRIYA))
    stranger = user()
    say(stack, stranger, "whats my club status")
    base = f"{stack.console_url}/api/conversations"
    assert wait_for(lambda: console.get(f"{base}/{sender}", timeout=10).status_code == 200, timeout=30)
    customer = console.get(f"{base}/{sender}/customer", timeout=10).json()["customer"]
    assert customer["tier"] == "Jumper" and customer["points"] == 1850
    assert customer["last_order"]["number"] == "2052" and customer["club"]["title"] == "Jumper"
    assert customer["link"].endswith(f"/customer/{c7.customer(PRIYA)['id']}")
    assert wait_for(lambda: console.get(f"{base}/{stranger}", timeout=10).status_code == 200, timeout=30)
    assert console.get(f"{base}/{stranger}/customer", timeout=10).json()["customer"] is None
    page = console.get(f"{stack.console_url}/conversations/{sender}", timeout=10).text
    assert "Proven customer" in page and "Open in Commerce7" in page and "#2052" in page


def test_self_service_in_chromium(stack, c7):
    """tests/browser/self_service.spec.mjs: the widget with a signed-in customer, then the console beside it."""
    import os
    import shutil
    import subprocess
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    missing = ("node is not installed" if not shutil.which("node") else
               f"{chromium} is missing" if not os.path.exists(chromium) else
               "widget/node_modules is missing (npm ci in widget/)"
               if not (ROOT / "widget" / "node_modules" / "playwright-core").exists() else None)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    env = {**os.environ, "WIDGET_URL": f"http://localhost:{stack.widget_port}", "CONSOLE_URL": stack.console_url,
           "ADMIN_EMAIL": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "CHROMIUM_PATH": chromium,
           "CUSTOMER_TOKEN": token_for(c7, PRIYA)}
    run = subprocess.run(["node", "--test", "--test-reporter=spec", "--test-concurrency=1",
                          str(ROOT / "tests" / "browser" / "self_service.spec.mjs")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    output = f"{run.stdout}\n{run.stderr}".strip()
    assert run.returncode == 0, f"browser tests failed (screenshots in results/browser/):\n{output}"
