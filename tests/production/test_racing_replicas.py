"""Two Rasa replicas racing on the same conversations: the Redis lock store serialises
each conversation's turns, so nothing is lost or doubled, and RabbitMQ gets every event.

Each conversation receives pairs of messages at the same moment, one to each replica
(not through nginx: the race is forced). Every message carries its number in the metadata,
which Rasa keeps on the user event."""
from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pika

from tests.production.services import RABBITMQ_URL

CONVERSATIONS = 30
PAIRS = 10  # 30 x 10 pairs = 600 racing messages
MESSAGES = ["hello", "are you open on sunday?", "can i bring my dog?", "thanks", "do you have a wine club?"]


def race_conversation(cluster, sender: str, failures: list) -> None:
    for pair in range(PAIRS):
        barrier = threading.Barrier(2)

        def send(seq: int, url: str) -> None:
            barrier.wait()
            response = cluster.post({"sender": sender, "message": MESSAGES[seq % len(MESSAGES)],
                                     "metadata": {"seq": seq}}, url, timeout=60)
            if response.status_code != 200 or not response.json():
                failures.append((sender, seq, response.status_code, response.text[:200]))

        threads = [threading.Thread(target=send, args=(2 * pair + i, url))
                   for i, url in enumerate(cluster.replica_urls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def broker_events(queue: str, senders: set[str], expected: int, timeout: float = 60) -> list[dict]:
    """Drain the cluster's queue until it holds `expected` events of these senders (or time runs out)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            method, _, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                if len(events) >= expected:
                    break
                time.sleep(0.5)
                continue
            event = json.loads(body)
            if event.get("sender_id") in senders:
                events.append(event)
    finally:
        connection.close()
    return events


def test_racing_replicas_lose_and_double_nothing(cluster):
    senders = [f"race-{uuid.uuid4().hex[:8]}" for _ in range(CONVERSATIONS)]
    failures: list = []
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda s: race_conversation(cluster, s, failures), senders))
    assert not failures, failures[:5]

    stored = 0
    for sender in senders:
        events = cluster.tracker(sender)["events"]
        seqs = [e["metadata"]["seq"] for e in events if e["event"] == "user"]
        # Every message exactly once, each pair's two messages in some order, pairs in order.
        assert sorted(seqs) == list(range(2 * PAIRS)), (sender, seqs)
        assert [s // 2 for s in seqs] == sorted(s // 2 for s in seqs), (sender, seqs)
        # Answered in order: every user message is followed by a bot message before the next one.
        turns = "".join("u" if e["event"] == "user" else "b" for e in events if e["event"] in ("user", "bot"))
        assert "uu" not in turns and turns.endswith("b"), (sender, turns)
        stored += len(events)

    published = broker_events(cluster.queue, set(senders), stored)
    tracker_keys = sorted((s, e["event"], e["timestamp"]) for s in senders for e in cluster.tracker(s)["events"])
    broker_keys = sorted((e["sender_id"], e["event"], e["timestamp"]) for e in published)
    assert broker_keys == tracker_keys
