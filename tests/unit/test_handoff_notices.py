"""Staff hand-off notifications once per customer turn: racing replays share one sending, a later
replay reuses its outcome, a failed or abandoned sending is taken over."""
from __future__ import annotations

import asyncio
import time

from actions.handoff_notices import HandoffNotices, notify_once
from tests.waiting import wait_until_async


def test_racing_and_late_replays_notify_once(tmp_path, handoff_waits):
    url, sent = f"sqlite:///{tmp_path / 'tracker.db'}", []

    async def notify():
        sent.append(1)
        await wait_until_async(lambda: len(handoff_waits) >= 2, 10, "both replays told to wait")  # still sending
        return {"sms": True}

    async def go():
        racing = await asyncio.gather(*(notify_once(url, "web-1", "m-1", 5.0, notify) for _ in range(3)))
        late = await notify_once(url, "web-1", "m-1", 5.0, notify)
        return racing, late
    racing, late = asyncio.run(go())
    assert sent == [1] and racing == [{"sms": True}] * 3 and late == {"sms": True}
    asyncio.run(notify_once(url, "web-1", "m-2", 5.0, notify))  # the next turn is a new request
    assert sent == [1, 1]


def test_a_sending_nobody_finished_is_taken_over_and_a_failed_one_tried_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    notices = HandoffNotices(url, lease_s=0.5)
    assert notices.claim("web-2", "m-1") == ("send", None)  # then the process died
    assert notices.claim("web-2", "m-1") == ("wait", None)
    deadline = time.monotonic() + 5
    while notices.claim("web-2", "m-1")[0] == "wait":  # the claim lapses after the lease
        assert time.monotonic() < deadline
        time.sleep(0.05)
    notices.record("web-2", "m-1", {"sms": False, "email": False})
    assert notices.claim("web-2", "m-1") == ("send", None)  # nobody was told: a replay tries again
    notices.record("web-2", "m-1", {"sms": False, "email": True})
    assert notices.claim("web-2", "m-1") == ("done", {"sms": False, "email": True})


def test_no_turn_key_notifies_without_a_record(tmp_path):
    url, sent = f"sqlite:///{tmp_path / 'tracker.db'}", []

    async def notify():
        sent.append(1)
        return {"sms": True}
    asyncio.run(notify_once(url, "web-3", None, 5.0, notify))
    asyncio.run(notify_once(url, "web-3", None, 5.0, notify))
    assert sent == [1, 1]
