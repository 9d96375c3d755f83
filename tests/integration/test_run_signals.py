"""`make run` (scripts/run.py) stops on SIGTERM and on SIGINT every time, while it starts up and
once it is ready, and its processes die with it when it is killed with SIGKILL: each time every
port of the stack is free and no process of the stack is left within 30 s.

A process belongs to the stack when its environment names the stack's data folder
(MILEA_DATA_DIR): every service and helper inherits it. These tests start real stacks: run them
alone (they are part of the integration suite).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.stack import ROOT, Stack
from tests.unit.test_processes import GONE_WITHIN_S, wait_until



def stack_processes(data_dir: Path) -> list[int]:
    markers = {f"MILEA_DATA_DIR={path}".encode() for path in (data_dir, data_dir.resolve())}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if markers & set((entry / "environ").read_bytes().split(b"\0")) and \
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine, LISTEN is not
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def start(tmp_path: Path, round_name: str) -> tuple[Stack, subprocess.Popen]:
    data_dir = tmp_path / round_name
    data_dir.mkdir()
    stack = Stack(data_dir)
    log = open(stack.log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run"], cwd=ROOT, env=stack.env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return stack, proc


def ports(stack: Stack) -> list[int]:
    return [stack.rasa_port, stack.action_port, stack.widget_port, stack.c7_port]


def wait_for_line(stack: Stack, proc: subprocess.Popen, line: str, timeout: float = 300) -> None:
    assert wait_until(lambda: line in stack.log_path.read_text(errors="replace") or proc.poll() is not None,
                      timeout), f"no {line!r} in {timeout}s"
    assert proc.poll() is None, stack.log_path.read_text(errors="replace")[-3000:]


def assert_stack_gone(stack: Stack, data_dir: Path) -> None:
    assert wait_until(lambda: not stack_processes(data_dir) and all(port_free(p) for p in ports(stack)),
                      GONE_WITHIN_S), (stack_processes(data_dir), [p for p in ports(stack) if not port_free(p)],
                                       stack.log_path.read_text(errors="replace")[-3000:])


# Three moments per signal: just started (services spawning), Rasa loading its model, ready.
MOMENTS = {"spawning": "Action server:", "loading": "    rasa |", "ready": "ready: chat at"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_the_whole_stack_every_time(tmp_path, signum):
    for moment, line in MOMENTS.items():
        stack, proc = start(tmp_path, f"{signum.name}-{moment}")
        wait_for_line(stack, proc, line)
        if moment == "ready":
            assert not any(port_free(p) for p in ports(stack))  # the stack really held its ports
        os.kill(proc.pid, signum)
        try:
            proc.wait(timeout=GONE_WITHIN_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"the supervisor did not stop on {signum.name} while {moment}:\n"
                        + stack.log_path.read_text(errors="replace")[-3000:])
        assert "stopped" in stack.log_path.read_text(errors="replace")
        assert_stack_gone(stack, Path(stack.env["MILEA_DATA_DIR"]))


def test_sigkill_of_the_supervisor_takes_the_stack_down(tmp_path):
    stack, proc = start(tmp_path, "SIGKILL")
    wait_for_line(stack, proc, MOMENTS["loading"])
    assert wait_until(lambda: not port_free(stack.action_port) and not port_free(stack.c7_port), 120)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert_stack_gone(stack, Path(stack.env["MILEA_DATA_DIR"]))
