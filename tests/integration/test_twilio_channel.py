"""The SMS channel end to end: the real webhook of a running assistant, requests signed like
Twilio signs them, replies received by a fake Twilio REST API."""
from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from twilio.request_validator import RequestValidator

from channels.sms_text import gsm_friendly
from console import attention
from console.db import ConsoleDB
from tests.fakes.twilio_api import FakeTwilioApi
from tests.integration.conftest import NUMBER, SID, TOKEN
from tests.integration.stack import ROOT, Stack

# The `api` (fake Twilio REST API) and `sms_stack` fixtures live in conftest.py: one SMS stack per session.


@pytest.fixture()
def phone() -> str:
    return "+1555" + "".join(random.choices("0123456789", k=7))


def webhook(stack: Stack) -> str:
    return f"{stack.url}/webhooks/twilio/webhook"


def params_for(phone: str, body: str | None, sid: str | None = None, media: int = 0) -> dict:
    sid = sid or f"SM{uuid.uuid4().hex}"
    params = {  # what Twilio posts for an incoming SMS
        "ToCountry": "US", "SmsMessageSid": sid, "NumMedia": str(media), "MessageSid": sid, "SmsSid": sid,
        "AccountSid": SID, "From": phone, "To": NUMBER, "NumSegments": "1", "SmsStatus": "received",
        "ApiVersion": "2010-04-01", "FromCountry": "US",
    }
    if body is not None:
        params["Body"] = body
    for n in range(media):
        params[f"MediaUrl{n}"] = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/MM{n}/Media/ME{n}"
        params[f"MediaContentType{n}"] = "image/jpeg"
    return params


def post_signed(stack: Stack, params: dict, token: str = TOKEN) -> requests.Response:
    signature = RequestValidator(token).compute_signature(webhook(stack), params)
    return requests.post(webhook(stack), data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def text(stack: Stack, phone: str, body: str | None, **kwargs) -> requests.Response:
    response = post_signed(stack, params_for(phone, body, **kwargs))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    return response


def settled(stack: Stack, api: FakeTwilioApi, phone: str) -> list[str]:
    """What was sent to `phone` before a HELP sent now: the channel handles one number's messages in
    order, so once HELP is answered, nothing earlier is still on its way (no fixed wait)."""
    before = len(api.sent_to(phone))
    text(stack, phone, "help")
    found = replies(api, phone, before + 1)
    assert "STOP" in found[-1]
    return found[:-1]


def replies(api: FakeTwilioApi, phone: str, count: int = 1, timeout: float = 30.0) -> list[str]:
    found = api.wait_for(phone, count, timeout)
    assert len(found) >= count, f"expected {count} SMS to {phone}, got {len(found)}"
    assert all(m["from"] == NUMBER for m in found)
    return [m["body"] for m in found]


def test_hours_question_gets_an_sms_reply(sms_stack, api, phone):
    text(sms_stack, phone, "are you open right now?")
    [reply] = replies(api, phone)
    assert "PM" in reply and "open right now" in reply


def test_greeting_numbers_the_buttons_and_a_number_picks_one(sms_stack, api, phone):
    text(sms_stack, phone, "hi there")
    [greeting] = replies(api, phone)
    assert "virtual assistant" in greeting
    assert "Reply 1 for Opening hours, 2 for Tastings" in greeting
    text(sms_stack, phone, " 2. ")
    answer = replies(api, phone, 2)[1]
    # the same answer the REST channel gives for that button's payload
    expected = sms_stack.say(f"rest-{uuid.uuid4().hex[:8]}", "/ask_tastings")[0]["text"]
    assert gsm_friendly(expected)[:60] in answer
    assert "tasting" in answer.lower()


def test_a_response_with_an_sms_version_is_sent_in_that_version(sms_stack, api, phone):
    # utter_clarify_no_subject, sent by name: Rasa's NLG picks its `channel: twilio` variation for SMS
    web, sms = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]["utter_clarify_no_subject"]
    assert sms["channel"] == "twilio"
    text(sms_stack, phone, "how much is it?")
    [reply] = replies(api, phone)
    assert reply.startswith(gsm_friendly(sms["text"])) and gsm_friendly(web["text"]) not in reply
    assert "Reply 1 for Our wines, 2 for Tastings" in reply


def test_forged_signature_is_rejected_and_nothing_is_sent(sms_stack, api, phone):
    response = post_signed(sms_stack, params_for(phone, "are you open?"), token="not-the-token")
    assert response.status_code == 403
    # a valid signature over other params does not pass either
    params = params_for(phone, "are you open?")
    signature = RequestValidator(TOKEN).compute_signature(webhook(sms_stack), params)
    tampered = {**params, "From": "+15557654321"}
    response = requests.post(webhook(sms_stack), data=tampered, headers={"X-Twilio-Signature": signature},
                             timeout=10)
    assert response.status_code == 403
    assert settled(sms_stack, api, phone) == [] and settled(sms_stack, api, "+15557654321") == []


def test_unsigned_request_is_rejected(sms_stack, api, phone):
    response = requests.post(webhook(sms_stack), data=params_for(phone, "hi"), timeout=10)
    assert response.status_code == 403
    assert settled(sms_stack, api, phone) == []


def test_missing_body_gets_a_friendly_prompt(sms_stack, api, phone):
    text(sms_stack, phone, None)
    [reply] = replies(api, phone)
    assert "What can I help you with?" in reply


def test_picture_gets_a_note_and_the_text_is_answered(sms_stack, api, phone):
    text(sms_stack, phone, "are you open right now?", media=1)
    [reply] = replies(api, phone)
    assert "can't read pictures" in reply and "PM" in reply


def test_retried_message_sid_is_processed_once(sms_stack, api, phone):
    sid = f"SM{uuid.uuid4().hex}"
    text(sms_stack, phone, "can i bring my dog?", sid=sid)
    text(sms_stack, phone, "can i bring my dog?", sid=sid)  # Twilio's retry: 200, nothing more
    assert "leash" in replies(api, phone)[0].lower()
    assert len(settled(sms_stack, api, phone)) == 1


def test_stop_silences_the_number_until_start(sms_stack, api, phone):
    text(sms_stack, phone, "STOP")
    text(sms_stack, phone, "are you open right now?")
    text(sms_stack, phone, "Start")  # handled after the two above (one number's messages run in order)
    [confirmation] = replies(api, phone)  # so nothing before it: no STOP confirmation, no answer
    assert "opted back in" in confirmation
    text(sms_stack, phone, "are you open right now?")
    assert "PM" in replies(api, phone, 2)[1]


def test_help_names_the_winery_phone_and_stop(sms_stack, api, phone):
    text(sms_stack, phone, "help")
    [reply] = replies(api, phone)
    assert "Milea Estate Vineyard" in reply and "(845) 266-0384" in reply and "STOP" in reply


def test_webhook_answers_at_once_and_the_reply_follows(sms_stack, api, phone):
    api.delay = 2.0  # a slow Twilio API must not hold up the webhook
    try:
        started = time.monotonic()
        text(sms_stack, phone, "are you open right now?")
        answered = time.monotonic() - started
        [reply] = replies(api, phone)
        delivered = time.monotonic() - started
    finally:
        api.delay = 0.0
    print(f"webhook answered in {answered * 1000:.0f} ms, reply delivered after {delivered * 1000:.0f} ms")
    assert answered < 1.0
    assert delivered >= 2.0 and "PM" in reply


def test_reply_is_delivered_when_the_api_fails_twice(sms_stack, api, phone):
    before = api.requests
    api.fail_next(2, status=500)
    text(sms_stack, phone, "are you open right now?")
    [reply] = replies(api, phone)
    assert "PM" in reply
    assert api.requests - before == 3


def test_a_reply_twilio_never_takes_is_listed_for_staff(sms_stack, api, phone):
    before = api.requests
    api.fail_next(4, status=503)  # every attempt the channel makes for this reply
    text(sms_stack, phone, "are you open right now?")
    sms_db = ConsoleDB(f"sqlite:///{Path(sms_stack.env['MILEA_DATA_DIR']) / 'sms.db'}")
    deadline = time.monotonic() + 30
    while not (mine := [f for f in attention.failed_sms(sms_db) if f["phone"] == phone]):
        assert time.monotonic() < deadline, "the failed SMS was not recorded for the console"
        time.sleep(0.2)
    assert "HTTP 503" in mine[0]["reason"] and "4 attempt(s)" in mine[0]["reason"]
    assert api.requests - before == 4 and settled(sms_stack, api, phone) == []  # the customer got nothing


@pytest.mark.parametrize("body, statuses", [
    ("what are your hours? " * 200, {413}),           # 4,200 chars: longer than any real SMS
    ("hello\x00\x07\x1b[31m are you open right now?", {200}),
    ("\ufffd\ufffe\u0000" * 50, {200}),
    ("🍷" * 500, {200}),
])
def test_long_or_binary_bodies_get_a_4xx_or_a_normal_reply(sms_stack, api, phone, body, statuses):
    response = post_signed(sms_stack, params_for(phone, body))
    assert response.status_code in statuses
    if response.status_code == 200:
        assert replies(api, phone)[0]


def test_malformed_requests_get_a_clear_4xx(sms_stack, api, phone):
    url, signed = webhook(sms_stack), {"X-Twilio-Signature": "bm90LWEtc2lnbmF0dXJl"}
    raw = bytes(range(256)) * 4  # not UTF-8
    cases = [
        requests.post(url, data=raw, headers={**signed, "Content-Type": "application/x-www-form-urlencoded"}),
        requests.post(url, data=b"x" * 200_000, headers={**signed, "Content-Type": "application/x-www-form-urlencoded"}),
        requests.post(url, json={"From": phone, "Body": "hi"}, headers=signed),
        requests.post(url, data="&".join(f"f{n}=1" for n in range(1000)),
                      headers={**signed, "Content-Type": "application/x-www-form-urlencoded"}),
    ]
    assert [r.status_code for r in cases] == [400, 413, 415, 400]
    assert all(r.json()["error"] for r in cases)
    missing_from = params_for(phone, "hi")
    del missing_from["From"]
    assert post_signed(sms_stack, missing_from).status_code == 400
    assert settled(sms_stack, api, phone) == []
