"""The one-time code store: hashing, expiry, attempts, rate limits, one use, per conversation."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from hypothesis import given, settings, strategies as st

from actions.verification_store import CodeStore

SECRET = "unit-test-verification-secret"


@pytest.fixture()
def store(tmp_path):
    return CodeStore(tmp_path / "codes.db", SECRET)


def other(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_is_six_digits_and_only_its_hmac_is_stored(store, tmp_path):
    issued = store.issue("cust-1", "web-a", now=1000)
    assert issued.code and len(issued.code) == 6 and issued.code.isdigit()
    assert issued.expires_at == 1000 + 600
    dump = "\n".join(sqlite3.connect(tmp_path / "codes.db").iterdump())
    assert issued.code not in dump and "web-a" not in dump


def test_right_code_works_once(store):
    code = store.issue("cust-1", "web-a", now=1000).code
    assert store.check("cust-1", "web-a", code, now=1001).ok
    assert store.check("cust-1", "web-a", code, now=1002).outcome == "none"


def test_code_works_only_in_its_conversation_and_for_its_account(store):
    code = store.issue("cust-1", "web-a", now=1000).code
    assert store.check("cust-1", "web-b", code, now=1001).outcome == "none"
    assert store.check("cust-2", "web-a", code, now=1001).outcome == "none"
    assert store.check("cust-1", "web-a", code, now=1001).ok


def test_expired_code_is_refused(store):
    code = store.issue("cust-1", "web-a", now=1000).code
    assert store.check("cust-1", "web-a", code, now=1000 + 600).outcome == "expired"


def test_five_wrong_guesses_lock_the_code(store):
    code = store.issue("cust-1", "web-a", now=1000).code
    lefts = [store.check("cust-1", "web-a", other(code), now=1001) for _ in range(5)]
    assert [c.outcome for c in lefts] == ["wrong"] * 4 + ["locked"]
    assert [c.attempts_left for c in lefts[:4]] == [4, 3, 2, 1]
    assert store.check("cust-1", "web-a", code, now=1002).outcome == "locked"


def test_a_new_code_replaces_the_old_one(store):
    first = store.issue("cust-1", "web-a", now=1000).code
    second = store.issue("cust-1", "web-a", now=1010).code
    if first != second:
        assert store.check("cust-1", "web-a", first, now=1011).outcome == "wrong"
    assert store.check("cust-1", "web-a", second, now=1012).ok


def test_rate_limit_per_account_across_conversations(store):
    issued = [store.issue("cust-1", f"web-{i}", now=1000 + i).code for i in range(6)]
    assert all(issued[:5]) and issued[5] is None
    assert store.issue("cust-2", "web-0", now=1010).code  # another account is not affected
    assert store.issue("cust-1", "web-9", now=1000 + 3601).code  # the window slides


def test_rate_limit_per_sender_across_accounts(store):
    issued = [store.issue(f"cust-{i}", "web-a", now=1000 + i).code for i in range(6)]
    assert all(issued[:5]) and issued[5] is None


def test_purge_forgets_codes_older_than_the_window(store):
    store.issue("cust-1", "web-a", now=1000)
    assert store.purge(now=1000 + 3601) == 1


def test_a_secret_is_required(tmp_path):
    with pytest.raises(ValueError):
        CodeStore(tmp_path / "codes.db", "")


def test_racing_checks_of_one_code_accept_it_once(tmp_path):
    store = CodeStore(tmp_path / "codes.db", SECRET)
    code = store.issue("cust-1", "web-a").code
    results, start = [], threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        results.append(CodeStore(tmp_path / "codes.db", SECRET).check("cust-1", "web-a", code).outcome)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["none"] * 7 + ["ok"]


# ---- hypothesis: any sequence of guesses, waits and re-sends by two sessions of one customer

STEP = st.one_of(
    st.tuples(st.just("guess"), st.sampled_from(["a", "b"]), st.booleans(), st.integers(0, 400)),
    st.tuples(st.just("resend"), st.sampled_from(["a", "b"]), st.just(False), st.integers(0, 400)),
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, max_size=25))
def test_verification_model(tmp_path_factory, steps):
    """Compare the store with a plain model: a session is verified only by its own live code,
    before expiry, within 5 attempts, once; never more than 5 codes per account per hour."""
    store = CodeStore(tmp_path_factory.mktemp("codes") / "codes.db", SECRET)
    now = 10_000.0
    live: dict = {}        # session -> [code, expires, attempts, used]
    issued_at: list = []
    for kind, session, right, wait in steps:
        now += wait
        if kind == "resend":
            got = store.issue("cust", session, now=now)
            recent = len([t for t in issued_at if t > now - 3600])
            if got.code is None:
                assert recent >= 5
            else:
                assert recent < 5
                issued_at.append(now)
                live[session] = [got.code, now + 600, 0, False]
            continue
        entry = live.get(session)
        guess = (entry[0] if right else other(entry[0])) if entry else "000000"
        result = store.check("cust", session, guess, now=now)
        if entry is None or entry[3]:
            assert result.outcome == "none"
        elif entry[1] <= now:
            assert result.outcome == "expired"
        elif entry[2] >= 5:
            assert result.outcome == "locked"
        else:
            entry[2] += 1
            if right:
                assert result.ok
                entry[3] = True
            else:
                assert result.outcome == ("wrong" if entry[2] < 5 else "locked")
        assert not (result.ok and not right)
