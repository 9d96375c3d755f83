"""The website's customer token through the production profile: docker-compose.yml gives the replicas
CUSTOMER_TOKEN_SECRET, so their channels exchange the token for a proof bound to the conversation
(core/customer_proof.py), and neither the tracker store (PostgreSQL) nor the events RabbitMQ carries
hold the token."""
from __future__ import annotations

import json
import time
import uuid

from actions.identity import sign_token
from tests.integration.stack import Commerce7View, texts
from tests.production.conftest import CUSTOMER_TOKEN_SECRET
from tests.production.test_racing_replicas import broker_events


def test_the_token_gets_the_points_and_is_neither_stored_nor_published(cluster):
    jordan = Commerce7View(cluster).customer("jordan.rivera@example.com")  # 12,400 points in the seed
    token = sign_token({"sub": jordan["id"], "exp": time.time() + 600}, CUSTOMER_TOKEN_SECRET)
    sender = f"token-{uuid.uuid4().hex[:10]}"
    assert "12,400" in texts(cluster.say(sender, "how many points do i have", customer_token=token))
    time.sleep(1)  # the turn is stored right after its reply is sent
    events = cluster.tracker(sender)["events"]
    published = broker_events(cluster.queue, {sender}, len(events))
    assert len(published) == len(events)
    for where, found in (("tracker store", events), ("RabbitMQ", published)):
        everything = json.dumps(found)
        assert token not in everything and "customer_token" not in everything, where
    assert [e["metadata"].get("customer_proof") for e in published if e["event"] == "user"][-1]
