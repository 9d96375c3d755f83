from __future__ import annotations

import pytest

from tests.console.helpers import STAFF, Console, Tracker


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    data = tmp_path_factory.mktemp("console")
    tracker = Tracker(data / "tracker.db")
    running = Console(data).start()
    running.add_user(*STAFF)
    running.tracker = tracker
    yield running
    running.stop()
