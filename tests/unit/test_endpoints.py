"""The endpoints Rasa reads, from the environment: embedded by default, each production
store switched on by its variable, a clear error for a URL of the wrong kind."""
from __future__ import annotations

from pathlib import Path

import pytest

from scripts.endpoints import LOCK_STORE_CLASS, TRACKER_STORE_CLASS, build

ACTIONS = "http://localhost:5055/webhook"


def test_embedded_defaults_say_how_to_switch():
    endpoints, lines = build({}, ACTIONS, Path("/data"))
    assert endpoints["action_endpoint"] == {"url": ACTIONS, "enable_selective_domain": True}
    assert endpoints["tracker_store"] == {"type": TRACKER_STORE_CLASS, "dialect": "sqlite", "db": "/data/tracker.db"}
    assert endpoints["lock_store"] == {"type": "in_memory"} and "event_broker" not in endpoints
    assert any("set TRACKER_DB_URL" in line for line in lines)
    assert any("set REDIS_URL" in line for line in lines) and any("set RABBITMQ_URL" in line for line in lines)


def test_production_stores_from_urls_and_no_password_in_the_lines():
    env = {"TRACKER_DB_URL": "postgres://milea:s3cret@db:5433/milea",
           "REDIS_URL": "redis://:r3dis@cache:6380/2",
           "RABBITMQ_URL": "amqp://bunny:r4bbit@mq:5673/", "RABBITMQ_QUEUE": "events"}
    endpoints, lines = build(env, ACTIONS, Path("/data"))
    assert endpoints["tracker_store"] == {"type": TRACKER_STORE_CLASS, "url": "postgresql://milea:s3cret@db:5433/milea"}
    assert endpoints["lock_store"] == {"type": LOCK_STORE_CLASS, "url": "cache", "port": 6380, "db": 2,
                                       "key_prefix": "milea", "use_ssl": False, "password": "r3dis"}
    broker = endpoints["event_broker"]
    assert (broker["url"], broker["port"], broker["username"], broker["password"], broker["queues"]) == \
        ("mq", 5673, "bunny", "r4bbit", ["events"])
    # its own exchange: another deployment on the same RabbitMQ does not receive these events
    assert broker["exchange_name"] == "events.exchange"
    assert build({**env, "RABBITMQ_EXCHANGE": "shared"}, ACTIONS, Path("/data"))[0]["event_broker"]["exchange_name"] \
        == "shared"
    text = "\n".join(lines)
    assert "PostgreSQL" in text and "Redis" in text and "RabbitMQ" in text
    assert not any(secret in text for secret in ("s3cret", "r3dis", "r4bbit"))


@pytest.mark.parametrize("name, value", [("TRACKER_DB_URL", "mysql://x/y"), ("REDIS_URL", "localhost:6379"),
                                         ("RABBITMQ_URL", "http://mq")])
def test_a_url_of_the_wrong_kind_is_refused(name, value):
    with pytest.raises(ValueError, match=name):
        build({name: value}, ACTIONS, Path("/data"))


def test_rasa_sends_the_action_server_token_in_a_header_never_in_the_url():
    endpoints, lines = build({"ACTION_SERVER_TOKEN": "s3cret-token"}, ACTIONS, Path("/data"))
    assert endpoints["action_endpoint"] == {"url": ACTIONS, "enable_selective_domain": True,
                                           "headers": {"Authorization": "Bearer s3cret-token"}}
    assert not any("s3cret-token" in line for line in lines)
    endpoints, lines = build({}, ACTIONS, Path("/data"))  # the action server would refuse every call: say so
    assert "headers" not in endpoints["action_endpoint"]
    assert any("ACTION_SERVER_TOKEN is not set" in line for line in lines)
