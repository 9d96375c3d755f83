"""Shared fixtures: a knowledge index built once per test session in a temp folder."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The action server's entry point warms the knowledge service in production; the
# servers tests start skip it (tests build their own services).
os.environ["MILEA_WARM_ON_START"] = "0"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The Commerce7 emulator on loopback; the actions' settings point at it."""
    from commerce7_demo.emulator import EmulatorServer

    server = EmulatorServer(tmp_path_factory.mktemp("c7") / "c7.json").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory, emulator):
    from actions import settings as settings_module

    data_dir = tmp_path_factory.mktemp("data")
    os.environ.update({"C7_API_URL": emulator.url, "MILEA_DATA_DIR": str(data_dir)})
    settings_module.get_settings.cache_clear()
    return settings_module.get_settings()


@pytest.fixture(scope="session")
def embedder():
    from core.knowledge.embeddings import LocalEmbedder

    return LocalEmbedder()


@pytest.fixture(scope="session")
def service(settings, embedder):
    from actions.knowledge.service import KnowledgeService

    svc = KnowledgeService(settings, embedder=embedder)
    svc.ensure_index()
    return svc


@pytest.fixture
def handoff_waits(monkeypatch) -> list:
    """Grows by one each time a hand-off call is told another call is sending (claim answers "wait"):
    a test's notify can hold its sending until the replays it races with have arrived."""
    from actions.handoff_notices import HandoffNotices

    waits: list = []
    claim = HandoffNotices.claim

    def observed(self, *args):
        state = claim(self, *args)
        waits.extend([1] if state[0] == "wait" else [])
        return state
    monkeypatch.setattr(HandoffNotices, "claim", observed)
    return waits


# ---- skips: `make test` lists them (-rs); in CI (CI=true) a skip fails the run unless its reason
# starts with one of these, each a limit of the machine rather than of the code.
ALLOWED_SKIPS = {
    # the flood test connects from a second address of this host; containers may have only loopback
    "no non-loopback address to connect from": "hosts with loopback only",
    # restarting PostgreSQL under load needs pg_ctlcluster (Debian's wrapper)
    "PostgreSQL here is not a Debian cluster this test can restart": "non-Debian PostgreSQL",
}


def unexplained_skips(reporter) -> list[str]:
    found = []
    for report in reporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if not reason.startswith(tuple(ALLOWED_SKIPS)):
            found.append(f"{report.nodeid}: {reason}")
    return found


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI", "").lower() != "true" or reporter is None:
        return
    session.config.unexplained_skips = unexplained_skips(reporter)
    if session.config.unexplained_skips and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    unexplained = getattr(config, "unexplained_skips", [])
    if unexplained:
        terminalreporter.section("skips not on the allow-list (tests/conftest.py ALLOWED_SKIPS) fail CI")
        for line in unexplained:
            terminalreporter.line(line)


# ---- random order, to find tests that depend on each other: `pytest --shuffle-seed 7`
def pytest_addoption(parser):
    parser.addoption("--shuffle-seed", type=int, default=None,
                     help="run the tests in a random order fixed by this seed (finds order-dependent tests)")


def pytest_report_header(config):
    seed = config.getoption("--shuffle-seed")
    return None if seed is None else f"test order shuffled with seed {seed}"


def pytest_collection_modifyitems(config, items):
    seed = config.getoption("--shuffle-seed")
    if seed is not None:
        import random

        # As pytest-randomly does: the modules in a random order, then the tests inside each
        # module. Shuffling every item across modules would tear down and restart the
        # module-scoped stacks between neighbours and find nothing more.
        rng = random.Random(seed)
        modules: dict[str, list] = {}
        for item in items:
            modules.setdefault(item.nodeid.split("::")[0], []).append(item)
        order = list(modules)
        rng.shuffle(order)
        shuffled = []
        for module in order:
            group = modules[module]
            rng.shuffle(group)
            shuffled.extend(group)
        items[:] = shuffled
