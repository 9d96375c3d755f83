"""What an operator sees: Prometheus metrics read from the stores (turns, latency by channel, fallbacks,
hand-offs, outbox depth and age) on SQLite and PostgreSQL, JSON log lines on LOG_FORMAT=json, and the
health report naming a dependency that is down."""
from __future__ import annotations

import asyncio
import json
import logging
import time

from prometheus_client.parser import text_string_to_metric_families

from tests.production.test_datacare import env, settings, tracker_db  # noqa: F401 (fixture)


def samples(body: bytes) -> dict:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def event(sender: str, kind: str, at: float, intent: str | None = None, action: str | None = None, **data) -> None:
    tracker_db().run("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [sender, kind, at, intent, action, json.dumps(data)])


def test_metrics_count_turns_latency_fallbacks_handoffs_and_the_outbox(env):
    from core.commerce7.outbox import Outbox
    from jobs.metrics import Metrics

    event("old", "user", time.time() - 60, "greet", input_channel="rest")  # before the start: not counted
    metrics = Metrics(settings())
    metrics.read_events()
    now = time.time()
    event("web-1", "user", now, "ask_hours", input_channel="socketio")
    event("web-1", "action", now + 0.1, action="action_listen")
    event("web-1", "bot", now + 0.8, text="We open at 11.")
    event("sms-1", "user", now, "nlu_fallback", input_channel="twilio")
    event("sms-1", "action", now + 0.2, action="action_default_fallback")
    event("sms-1", "bot", now + 2.5, text="Sorry?")
    event("sms-1", "user", now + 3, "human_handoff", input_channel="twilio")
    event("sms-1", "action", now + 3.1, action="action_handoff")
    Outbox(settings().outbox_database).enqueue("newsletter", "k1", {"email": "a@example.com"}, now=now - 120)
    found = samples(metrics.scrape())
    assert found[("milea_turns_total", (("channel", "socketio"),))] == 1
    assert found[("milea_turns_total", (("channel", "twilio"),))] == 2
    assert ("milea_turns_total", (("channel", "rest"),)) not in found
    assert found[("milea_turn_latency_seconds_count", (("channel", "socketio"),))] == 1
    assert abs(found[("milea_turn_latency_seconds_sum", (("channel", "socketio"),))] - 0.8) < 0.01
    assert found[("milea_turn_latency_seconds_bucket", (("channel", "twilio"), ("le", "2.0")))] == 0
    assert found[("milea_turn_latency_seconds_bucket", (("channel", "twilio"), ("le", "3.0")))] == 1
    assert found[("milea_fallbacks_total", (("channel", "twilio"), ("kind", "nlu")))] == 1
    assert found[("milea_fallbacks_total", (("channel", "twilio"), ("kind", "action")))] == 1
    assert found[("milea_handoffs_total", (("channel", "twilio"),))] == 1
    assert found[("milea_outbox_jobs", (("status", "pending"),))] == 1
    assert 110 < found[("milea_outbox_oldest_pending_age_seconds", ())] < 600
    again = samples(metrics.scrape())  # nothing new: nothing counted twice
    assert again[("milea_turns_total", (("channel", "twilio"),))] == 2


def test_json_logs_are_one_object_per_line(monkeypatch, capsys):
    from core import jsonlog

    monkeypatch.setenv("LOG_FORMAT", "json")
    jsonlog.setup()
    logging.getLogger("milea.test").warning("outbox %s", "slow")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("milea.test").exception("failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["level"] == "warning" and lines[0]["message"] == "outbox slow" and lines[0]["logger"] == "milea.test"
    assert "ValueError: boom" in lines[1]["exception"]
    logging.getLogger().handlers.clear()


def test_health_names_the_dependency_that_is_down(env, monkeypatch):
    from jobs import health

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setenv("C7_API_URL", "http://127.0.0.1:1/v1")
    report = asyncio.run(health.report(settings()))
    deps = report["dependencies"]
    assert deps["database"]["status"] == "ok" and deps["database"]["latency_ms"] >= 0
    assert deps["redis"]["status"] == "down" and deps["commerce7"]["status"] == "down"
    assert deps["rabbitmq"]["status"] == "off" and deps["llm"]["status"] == "off"
    assert report["status"] == "degraded"
