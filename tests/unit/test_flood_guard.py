"""The flood limit of channels/guard.py: messages per sender (per channel) and per client address
in fixed windows, in memory or shared by replicas through Redis, and the client address taken
from a forwarding header only when a trusted proxy sent it. The channels use it end to end in
tests/integration/test_floods.py."""
from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from channels.guard import FloodGuard, RateLimits, trusted_networks, client_address
from tests.unit.rasa_side import RASA_PY, REDIS_URL, require_redis, run_in_rasa_venv


class Clock:
    def __init__(self, now: float = 1_000_020.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def checks(guard: FloodGuard, calls: list[tuple]) -> list:
    async def run():
        return [await guard.check(*call) for call in calls]
    return asyncio.run(run())


def test_a_sender_over_its_limit_is_refused_until_the_window_ends():
    clock = Clock()
    guard = FloodGuard(RateLimits(per_sender=3, per_address=100, window_s=60), clock=clock)
    verdicts = checks(guard, [("rest", "ann", "198.51.100.1")] * 5)
    assert [v.limited for v in verdicts] == [False, False, False, True, True]
    assert [v.first for v in verdicts[3:]] == [True, False]  # the SMS channel answers only the first
    assert 0 < verdicts[3].retry_after <= 60
    assert not checks(guard, [("rest", "bob", "198.51.100.1")])[0].limited  # another sender is fine
    clock.now += 60
    assert not checks(guard, [("rest", "ann", "198.51.100.1")])[0].limited


def test_an_address_is_limited_across_senders_and_channels():
    guard = FloodGuard(RateLimits(per_sender=100, per_address=4, window_s=60), clock=Clock())
    calls = [("rest", f"s{i}", "198.51.100.2") for i in range(2)] + \
            [("socketio", f"s{i}", "198.51.100.2") for i in range(3)]
    assert [v.limited for v in checks(guard, calls)] == [False] * 4 + [True]
    assert not checks(guard, [("rest", "s0", "198.51.100.3")])[0].limited


def test_senders_are_counted_per_channel():
    """A REST caller naming itself "+15551234567" does not use up that phone's SMS allowance."""
    guard = FloodGuard(RateLimits(per_sender=2, per_address=100, window_s=60), clock=Clock())
    checks(guard, [("rest", "+15551234567", "198.51.100.4")] * 5)
    assert not checks(guard, [("twilio", "+15551234567", None)])[0].limited


def test_limits_come_from_the_environment_with_sane_defaults():
    assert RateLimits.from_env({}) == RateLimits(20, 60, 60)
    assert RateLimits.from_env({"RATE_LIMIT_PER_SENDER": "5", "RATE_LIMIT_PER_ADDRESS": "7",
                                "RATE_LIMIT_WINDOW_S": "10"}) == RateLimits(5, 7, 10)
    # nonsense never switches the limit off
    assert RateLimits.from_env({"RATE_LIMIT_PER_SENDER": "0", "RATE_LIMIT_PER_ADDRESS": "lots",
                                "RATE_LIMIT_WINDOW_S": "-1"}) == RateLimits(20, 60, 60)


LOOPBACK = trusted_networks({})


@pytest.mark.parametrize("peer, headers, expected", [
    ("203.0.113.9", {"x-real-ip": "198.51.100.7"}, "203.0.113.9"),  # a client cannot pick its address
    ("203.0.113.9", {"x-forwarded-for": "198.51.100.7"}, "203.0.113.9"),
    ("127.0.0.1", {"x-real-ip": "198.51.100.7"}, "198.51.100.7"),  # our nginx on loopback
    ("127.0.0.1", {"x-forwarded-for": "10.9.9.9, 198.51.100.8"}, "198.51.100.8"),  # the entry nginx added
    ("::1", {"x-real-ip": "2001:db8::5"}, "2001:db8::5"),
    ("127.0.0.1", {"x-real-ip": "not-an-address"}, "127.0.0.1"),
    ("127.0.0.1", {}, "127.0.0.1"),
    (None, {"x-real-ip": "198.51.100.7"}, None),
])
def test_the_forwarded_address_counts_only_from_a_trusted_proxy(peer, headers, expected):
    assert client_address(peer, headers, LOOPBACK) == expected


def test_trusted_proxies_are_configurable():
    trusted = trusted_networks({"TRUSTED_PROXIES": "172.18.0.0/16, bogus"})
    assert client_address("172.18.0.5", {"x-real-ip": "198.51.100.7"}, trusted) == "198.51.100.7"
    assert client_address("127.0.0.1", {"x-real-ip": "198.51.100.7"}, trusted) == "127.0.0.1"


# Two processes with their own FloodGuard stand for two Rasa replicas sharing Redis.
REPLICA = """
import asyncio, json, sys
from channels.guard import FloodGuard, RateLimits
guard = FloodGuard(RateLimits(per_sender=20, per_address=1000, window_s=3600), sys.argv[1])
async def main():
    return [(await guard.check("rest", sys.argv[2], "198.51.100.9")).limited for _ in range(int(sys.argv[3]))]
print(json.dumps(asyncio.run(main())))
"""


def replica(redis_url: str, sender: str, messages: int) -> list[bool]:
    return run_in_rasa_venv(REPLICA, redis_url, sender, str(messages), timeout=60)


@pytest.mark.skipif(not RASA_PY.exists(), reason="the Rasa venv is not set up")
def test_replicas_share_the_count_through_redis():
    require_redis()
    sender = f"flood-{uuid.uuid4().hex}"
    assert replica(REDIS_URL, sender, 15) == [False] * 15
    assert replica(REDIS_URL, sender, 10) == [False] * 5 + [True] * 5  # the second replica knows the first's 15


@pytest.mark.skipif(not RASA_PY.exists(), reason="the Rasa venv is not set up")
def test_without_redis_each_process_still_limits():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert replica(f"redis://127.0.0.1:{port}/0", "flood-no-redis", 22) == [False] * 20 + [True] * 2
