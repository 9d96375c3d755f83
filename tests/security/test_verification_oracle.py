"""The one-time-code step must not tell who is a customer: a stranger typing a customer's email,
an email on no account, or the email of an account the code cannot reach hears the same words,
after about the same time. Through REST against the running assistant (SMS codes on, email off)."""
from __future__ import annotations

import time
import uuid

from tests.integration.stack import texts

JORDAN_EMAIL = "jordan.rivera@example.com"  # an account with a phone: the code goes there by SMS
SAM_EMAIL = "sam.whitaker@example.com"      # an account without a phone: no code can reach it here


def code_step(target, email: str) -> tuple[str, float]:
    """(what the visitor hears after typing `email` when asked for their points, seconds it took)."""
    user = f"oracle-{uuid.uuid4().hex[:8]}"
    asked = texts(target.say(user, "how many points do i have?"))
    assert "email address or mobile number" in asked
    started = time.monotonic()
    said = texts(target.say(user, email))
    return said, time.monotonic() - started


def test_an_account_the_code_cannot_reach_sounds_like_no_account(target):
    stranger, _ = code_step(target, f"nobody.{uuid.uuid4().hex[:6]}@example.com")
    sam, _ = code_step(target, SAM_EMAIL)
    assert "sent a 6-digit code" in stranger
    assert sam == stranger


def test_a_customer_is_answered_as_fast_as_a_stranger(target, twilio):
    twilio.delay = 1.5  # a slow SMS provider: the real send must not hold the answer
    try:
        stranger, stranger_s = code_step(target, f"nobody.{uuid.uuid4().hex[:6]}@example.com")
        customer, customer_s = code_step(target, JORDAN_EMAIL)
    finally:
        twilio.delay = 0.0
    assert customer == stranger
    assert abs(customer_s - stranger_s) < 0.75, (customer_s, stranger_s)
    assert twilio.wait_for("+15551234567", 1, timeout=20)  # and the customer does get the code
