"""The console with the whole assistant (scripts/run.py on free ports, Twilio channel on against
the fake Twilio API): the browser tests (console.spec.mjs, node --test with system Chromium) and
the refusals of take-over and replies through the real API."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from channels.sms_store import SmsStore, sms_database
from tests.console.helpers import ADMIN, STAFF, free_port, wait_for
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.stack import Stack

from core.paths import ROOT
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SPEC = ROOT / "tests" / "console" / "console.spec.mjs"
PLAYWRIGHT = ROOT / "widget" / "node_modules" / "playwright-core"
SID, TOKEN, NUMBER, STAFF_PHONE = "AC_console_0123456789", "console-auth-token-01", "+15550002222", "+15550003333"


@pytest.fixture(scope="module")
def twilio():
    fake = FakeTwilioApi(SID, TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(twilio, tmp_path_factory):
    if not (ROOT / "models" / "milea.tar.gz").exists():
        pytest.fail("no trained model: run `make train` before the console tests")
    port = free_port()
    running = Stack(tmp_path_factory.mktemp("console-stack"), {
        "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER,
        "TWILIO_API_BASE_URL": twilio.url, "STAFF_PHONE": STAFF_PHONE,
        "CONSOLE_PORT": str(port), "CONSOLE_URL": f"http://127.0.0.1:{port}", "CONSOLE_POLL_S": "0.3",
        "STAFF_ADMIN_EMAIL": ADMIN[0], "STAFF_ADMIN_PASSWORD": ADMIN[1],
        "MILEA_NOW": "2026-11-27T14:00:00-05:00",  # a Friday afternoon: open, hours replies predictable
    }).start()
    running.console_url = f"http://127.0.0.1:{port}"
    assert wait_for(lambda: _up(running.console_url), timeout=60), "the console did not start"
    run = subprocess.run([os.sys.executable, "-m", "console.users", "--email", STAFF[0]], cwd=ROOT,
                         env={**running.env, "STAFF_USER_PASSWORD": STAFF[1]}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    yield running
    running.stop()


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_console_in_a_browser(stack, twilio):
    missing = ("node is not installed" if not shutil.which("node") else
               f"{CHROMIUM} is missing" if not CHROMIUM.exists() else
               "widget/node_modules is missing (npm ci in widget/)" if not PLAYWRIGHT.exists() else None)
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    env = {**os.environ, "WIDGET_URL": f"http://localhost:{stack.widget_port}", "CONSOLE_URL": stack.console_url,
           "RASA_URL": stack.url, "ADMIN_EMAIL": ADMIN[0], "ADMIN_PASSWORD": ADMIN[1], "CHROMIUM_PATH": str(CHROMIUM),
           "TWILIO_SID": SID, "TWILIO_TOKEN": TOKEN, "TWILIO_NUMBER": NUMBER, "TWILIO_API": twilio.url,
           "STAFF_PHONE": STAFF_PHONE}
    try:
        run = subprocess.run(["node", "--test", "--test-reporter=spec", "--test-concurrency=1", str(SPEC)], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"browser tests did not finish in 600 s: {exc.stdout}{exc.stderr}")
    output = f"{run.stdout}\n{run.stderr}".strip()
    print(output)
    assert run.returncode == 0, f"browser tests failed (screenshots in results/console/):\n{output}"
    log = stack.log_path.read_text(errors="replace")
    console_lines = "\n".join(line for line in log.splitlines() if line.lstrip().startswith("console |"))
    assert "POST /api/conversations/{id}/messages 200" in console_lines
    for secret in ("Which order number", "this is Anna", "order 1042", ADMIN[1]):
        assert secret not in console_lines, f"customer data in the console log: {secret}"


# ---- refusals through the API (bearer tokens, as a script would)

def api(stack: Stack, who: tuple[str, str]) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{stack.console_url}/api/login", json={"email": who[0], "password": who[1]}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["Authorization"] = f"Bearer {r.json()['token']}"
    s.base = f"{stack.console_url}/api/conversations"
    return s


def sms_in(stack: Stack, phone: str, body: str) -> None:
    url = f"{stack.url}/webhooks/twilio/webhook"
    sid = f"SM{uuid.uuid4().hex}"
    params = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": SID, "From": phone, "To": NUMBER, "Body": body,
              "NumMedia": "0"}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    assert requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10).status_code == 200


def known(s: requests.Session, sender: str) -> bool:
    return s.get(f"{s.base}/{requests.utils.quote(sender, safe='')}", timeout=10).status_code == 200


def test_takeover_by_someone_else_and_give_back_rules(stack):
    admin, staff = api(stack, ADMIN), api(stack, STAFF)
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    assert stack.say(sender, "hi")
    assert wait_for(lambda: known(admin, sender), timeout=10)
    assert staff.post(f"{staff.base}/{sender}/takeover").status_code == 200
    assert staff.post(f"{staff.base}/{sender}/takeover").status_code == 200  # again: still theirs
    taken = admin.post(f"{admin.base}/{sender}/takeover")
    assert taken.status_code == 409 and "has already taken over" in taken.json()["error"]
    reply = admin.post(f"{admin.base}/{sender}/messages", json={"text": "hello"})
    assert reply.status_code == 409 and "holds this conversation" in reply.json()["error"]
    # paused: the assistant stays quiet over REST, and the message is kept in the transcript
    assert stack.say(sender, "what are your hours?") == []
    turns = staff.get(f"{staff.base}/{sender}").json()["turns"]
    assert any(t.get("text") == "what are your hours?" for t in turns)
    # the REST API cannot receive a message later: a clear refusal, nothing half sent
    rest = staff.post(f"{staff.base}/{sender}/messages", json={"text": "hello"})
    assert rest.status_code == 409 and "REST API" in rest.json()["error"]
    # staff cannot give back someone else's conversation; an admin can
    other = api(stack, ADMIN)
    assert staff.post(f"{staff.base}/{sender}/release").status_code == 200
    assert other.post(f"{other.base}/{sender}/release").status_code == 409  # nobody holds it now
    assert "PM" in " ".join(r.get("text", "") for r in stack.say(sender, "what are your hours?"))
    assert admin.post(f"{admin.base}/no-such-conversation/takeover").status_code == 404


def test_sms_replies_refused_when_too_long_or_opted_out(stack, twilio):
    admin = api(stack, ADMIN)
    phone = "+1555" + "".join(random.choices("0123456789", k=7))
    sms_in(stack, phone, "do you have gift cards?")
    assert len(twilio.wait_for(phone, 1)) == 1
    assert wait_for(lambda: known(admin, phone), timeout=10)
    base = f"{admin.base}/{requests.utils.quote(phone, safe='')}"
    assert admin.post(f"{base}/takeover").status_code == 200
    long = admin.post(f"{base}/messages", json={"text": "x" * 1601})
    assert long.status_code == 413 and "at most 1600" in long.json()["error"]
    empty = admin.post(f"{base}/messages", json={"text": "   "})
    assert empty.status_code == 400
    assert admin.post(f"{base}/messages", data="text=hi").status_code == 400
    sms_in(stack, phone, "STOP")
    store = SmsStore(sms_database(Path(stack.env["MILEA_DATA_DIR"])))
    assert wait_for(lambda: store.opted_out(phone), timeout=10)
    opted = admin.post(f"{base}/messages", json={"text": "Sorry to see you go"})
    assert opted.status_code == 409 and "opted out" in opted.json()["error"]
    assert [m["body"] for m in twilio.sent_to(phone)] == [twilio.sent_to(phone)[0]["body"]]  # nothing else sent
    assert admin.get(base).json()["conversation"]["held_by_me"]  # still held: nothing lost
    assert admin.post(f"{base}/release").status_code == 200


def test_the_staff_channel_wants_its_secret(stack):
    url = f"{stack.url}/webhooks/staff/send"
    body = {"sender_id": "someone", "channel": "socketio", "text": "hello"}
    assert requests.post(url, json=body, timeout=10).status_code == 403
    assert requests.post(url, json=body, headers={"X-Staff-Secret": "guess"}, timeout=10).status_code == 403
    secret = (Path(stack.env["MILEA_DATA_DIR"]) / "staff_channel_secret").read_text().strip()
    missing = requests.post(url, json=body, headers={"X-Staff-Secret": secret}, timeout=10)
    assert missing.status_code == 404 and "no conversation" in missing.json()["error"]
    bad = requests.post(url, json={"sender_id": "someone"}, headers={"X-Staff-Secret": secret}, timeout=10)
    assert bad.status_code == 400
