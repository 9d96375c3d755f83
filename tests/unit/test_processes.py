"""The supervisor's process handling (scripts/processes.py), on a small supervisor of sleeping
processes (tests/unit/fake_supervisor.py): SIGTERM and SIGINT stop it every time, bursts of
signals included, with children and grandchildren gone; SIGKILL of the supervisor takes them
down too. The real `make run` stack is tested the same way in tests/integration/test_run_signals.py."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.paths import ROOT
GONE_WITHIN_S = 30


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie holds nothing; its parent (init) reaps it


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def start(tmp_path: Path, mode: str = "normal", delay: float = 0.0, grace: str = "2"):
    pidfile = tmp_path / f"pids-{time.monotonic_ns()}"
    pidfile.touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MILEA_STOP_GRACE_S": grace}
    proc = subprocess.Popen([sys.executable, "-m", "tests.unit.fake_supervisor", str(pidfile), mode, str(delay)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    return proc, pidfile


def pids(pidfile: Path) -> list[int]:
    return [int(line) for line in pidfile.read_text().split()]


def watchdog_of(supervisor: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if "scripts.processes --watch" in cmdline and parent == supervisor:
                found.append(int(entry.name))
    return found


def assert_all_gone(proc: subprocess.Popen, pidfile: Path, children: list[int]) -> None:
    assert wait_until(lambda: not any(alive(p) for p in children), GONE_WITHIN_S), \
        [p for p in children if alive(p)]
    # the services a slow start-up had not yet written down are gone as well
    assert not any(alive(p) for p in pids(pidfile))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("when", ["running", "starting"])
def test_a_stop_signal_stops_everything_every_time(tmp_path, signum, when):
    for _ in range(3):
        proc, pidfile = start(tmp_path, delay=0.5 if when == "starting" else 0.0)
        expected = 2 if when == "starting" else 6
        assert wait_until(lambda: len(pids(pidfile)) >= expected, 20)
        os.kill(proc.pid, signum)
        out, _ = proc.communicate(timeout=GONE_WITHIN_S)
        assert proc.returncode == 0 and "stopped" in out, out
        assert_all_gone(proc, pidfile, pids(pidfile))


def test_a_burst_of_signals_never_deadlocks(tmp_path):
    """A handler that set a threading.Event while the main thread waited on it would deadlock."""
    for _ in range(3):
        proc, pidfile = start(tmp_path)
        assert wait_until(lambda: len(pids(pidfile)) == 6, 20)
        for i in range(200):
            try:
                os.kill(proc.pid, signal.SIGTERM if i % 2 else signal.SIGINT)
            except ProcessLookupError:
                break
        out, _ = proc.communicate(timeout=GONE_WITHIN_S)
        assert proc.returncode == 0 and "stopped" in out, out
        assert_all_gone(proc, pidfile, pids(pidfile))


def test_services_that_ignore_sigterm_are_killed_after_the_grace_period(tmp_path):
    proc, pidfile = start(tmp_path, mode="stubborn")
    assert wait_until(lambda: len(pids(pidfile)) == 6, 20)
    os.kill(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=GONE_WITHIN_S)
    assert_all_gone(proc, pidfile, pids(pidfile))


@pytest.mark.parametrize("mode", ["normal", "stubborn"])
def test_sigkill_of_the_supervisor_takes_its_children_and_grandchildren_down(tmp_path, mode):
    proc, pidfile = start(tmp_path, mode=mode)
    assert wait_until(lambda: len(pids(pidfile)) == 6, 20)
    watchdogs = watchdog_of(proc.pid)
    assert len(watchdogs) == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    assert_all_gone(proc, pidfile, pids(pidfile))
    assert wait_until(lambda: not alive(watchdogs[0]), GONE_WITHIN_S)  # its work done, the watchdog ends too
