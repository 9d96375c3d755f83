"""The SMS channel's record of MessageSids: at least once, deduplicated (received -> done)."""
from __future__ import annotations

import threading

from channels.sms_store import LEASE_S, SmsStore


def test_a_message_is_handled_once_and_only_done_after_its_turn(tmp_path):
    store = SmsStore(tmp_path / "sms.db")
    assert store.receive("SM1", "+15550001111", "hours?", 0, now=1000.0)
    assert not store.receive("SM1", "+15550001111", "hours?", 0, now=1001.0)  # retry while it is handled
    assert store.unfinished(now=1001.0) == []
    store.done("SM1")
    assert not store.receive("SM1", "+15550001111", "hours?", 0, now=10_000.0)  # done: never again
    assert store.unfinished(now=10_000.0) == []


def test_a_message_a_crash_left_is_handed_back_once(tmp_path):
    store = SmsStore(tmp_path / "sms.db")
    assert store.receive("SM2", "+15550002222", "can i bring my dog?", 1, now=1000.0)
    # the process died before done(): after the lease a Twilio retry is let through ...
    assert store.receive("SM2", "+15550002222", "can i bring my dog?", 1, now=1000.0 + LEASE_S + 1)
    # ... and the recovery hands it back once per lease, text included
    assert store.unfinished(now=1000.0 + 3 * LEASE_S) == [("SM2", "+15550002222", "can i bring my dog?", 1)]
    assert store.unfinished(now=1000.0 + 3 * LEASE_S + 1) == []
    store.done("SM2")
    assert store.unfinished(now=1000.0 + 10 * LEASE_S) == []


def test_racing_replicas_let_one_retry_through(tmp_path):
    store = SmsStore(tmp_path / "sms.db")
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(store.receive("SM3", "+1555", "hi", 0)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_first_time_still_dedupes(tmp_path):
    store = SmsStore(f"sqlite:///{tmp_path / 'sms.db'}")
    assert store.first_time("SM4") and not store.first_time("SM4")
