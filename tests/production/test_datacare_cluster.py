"""Forgetting one person on a live cluster: the conversation Rasa stored in PostgreSQL (its own
tracker store, not a copy of its schema) is gone, and the other visitors' are not."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tests.integration.stack import ROOT
from tests.production.services import database_url


def user_events(cluster, sender: str) -> list[dict]:
    return [e for e in cluster.tracker(sender)["events"] if e["event"] == "user"]


def test_forget_removes_a_live_conversation_and_nothing_else(cluster):
    tag = uuid.uuid4().hex[:8]
    email, person, other = f"forget-{tag}@example.com", f"web-forget-{tag}", f"web-keep-{tag}"
    cluster.say(person, "add me to your newsletter")
    cluster.say(person, email)
    cluster.say(other, "can i bring my dog?")
    assert user_events(cluster, person) and user_events(cluster, other)
    env = {**os.environ, "TRACKER_DB_URL": database_url(cluster.database), "MILEA_DATA_DIR": str(cluster.data_dir)}
    result = subprocess.run([sys.executable, "-m", "jobs.datacare", "forget", email], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "conversations: 1 (" in result.stdout, result.stdout
    assert user_events(cluster, person) == []
    assert len(user_events(cluster, other)) == 1
