"""The supervisor's children (`make run`, `make cluster`): they stop on Ctrl-C and SIGTERM every
time, and die with the supervisor whatever kills it.

- Signal handlers only set a flag; `signal.set_wakeup_fd` writes a byte to a pipe that
  `Stopping.wait` sleeps on (no lock, no blocking call in a handler: a `threading.Event` set
  from a handler deadlocks when the main thread holds its lock in `wait`).
- Each service runs in its own process group (its grandchildren too: nginx workers, ...)
  with PR_SET_PDEATHSIG, so the kernel sends it SIGTERM when the supervisor dies.
- A watchdog process in its own session holds one end of a pipe from the supervisor; when the
  supervisor dies, even by SIGKILL, the pipe closes and the watchdog stops every group the
  supervisor had started: SIGTERM, then SIGKILL after a grace period.
"""
from __future__ import annotations

import ctypes
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Iterable, Optional

from core.paths import ROOT

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# How long a stopping service may take before its group is killed (tests shorten it).
STOP_GRACE_S = float(os.environ.get("MILEA_STOP_GRACE_S") or 15)
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls it


def _in_own_group_dying_with(parent: int) -> Callable[[], None]:
    """preexec_fn (runs in the child after setsid): die when `parent` does."""
    def setup() -> None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(1)
    return setup


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # the number now belongs to someone else's group: not ours any more
        return False


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Stopping:
    """The stop request: set by SIGINT/SIGTERM (a plain flag) or by the supervisor itself."""

    def __init__(self) -> None:
        self._flag = False
        self.signals = 0  # how many stop signals arrived; a second one skips the grace period
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def install(self) -> "Stopping":
        """Handle SIGINT and SIGTERM from now on (call in the main thread)."""
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signals += 1
        self._flag = True

    def set(self) -> None:
        self._flag = True
        try:
            os.write(self._write, b"\0")
        except BlockingIOError:  # the pipe is full: wait() wakes anyway
            pass

    def is_set(self) -> bool:
        return self._flag

    def finish(self) -> None:
        """The supervisor's own end, once its services are down: later stop signals are ignored.
        Python puts the default handlers back while it exits, so the tail of a burst of SIGTERMs would
        otherwise turn a clean stop into death by signal (exit status -15 instead of 0)."""
        self._flag = True
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)

    def wait(self, timeout: float) -> bool:
        """Sleep until a stop request or `timeout` seconds; True when stopping."""
        if not self._flag:
            try:
                select.select([self._read], [], [], max(0.0, timeout))
            except InterruptedError:
                pass
        try:
            while os.read(self._read, 512):
                pass
        except BlockingIOError:
            pass
        return self._flag


class Watchdog:
    """A process outside every group the supervisor kills, told which groups to clean up."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-m", "scripts.processes", "--watch", str(read)],
                                     cwd=ROOT, pass_fds=(read,), stdin=subprocess.DEVNULL, start_new_session=True)
        os.close(read)

    def _tell(self, line: str) -> None:
        try:
            os.write(self._write, line.encode())
        except OSError:  # the watchdog is gone: PDEATHSIG still covers the direct children
            pass

    def track(self, pgid: int) -> None:
        self._tell(f"+{pgid}\n")

    def forget(self, pgid: int) -> None:
        self._tell(f"-{pgid}\n")

    def close(self) -> None:
        """Normal end: every group is stopped already; the watchdog sees the pipe close and exits."""
        os.close(self._write)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_watchdog: Optional[Watchdog] = None


def supervise() -> Stopping:
    """Install the signal handlers and start the watchdog: the first thing a supervisor does."""
    global _watchdog
    stopping = Stopping().install()
    if _watchdog is None:
        _watchdog = Watchdog()
    return stopping


class Service:
    """One child process of the supervisor, its output prefixed with its name."""

    def __init__(self, name: str, cmd: list[str], env: Optional[dict] = None) -> None:
        self.name = name
        self.cmd = cmd
        self.env = {**os.environ, **(env or {})}
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True,
            preexec_fn=_in_own_group_dying_with(os.getpid()),
        )
        if _watchdog is not None:
            _watchdog.track(self.proc.pid)
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen) -> None:
        assert proc.stdout
        for line in proc.stdout:
            print(f"{self.name:>8} | {line.rstrip()}", flush=True)

    def running(self) -> bool:
        return bool(self.proc and self.proc.poll() is None)

    def stop(self) -> None:
        """Ask the whole group to stop (SIGTERM); returns at once."""
        if self.proc:
            signal_group(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL what is left of the group (grandchildren included) and reap the leader."""
        if not self.proc:
            return
        signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if _watchdog is not None:
            _watchdog.forget(self.proc.pid)

    def wait_stopped(self, timeout: float) -> None:
        stop_services([self], timeout=timeout)

    def run_to_end(self, stopping: Stopping) -> bool:
        """Run a one-off step (e.g. indexing) as a service; True when it succeeded before a stop request."""
        self.start()
        while self.running() and not stopping.wait(0.5):
            pass
        if self.running():
            stop_services([self], stopping)
            return False
        self.kill()
        return self.proc is not None and self.proc.returncode == 0


def stop_services(services: Iterable[Service], stopping: Optional[Stopping] = None,
                  timeout: float = STOP_GRACE_S) -> None:
    """SIGTERM every group, wait up to `timeout` (a further stop signal cuts it short), then SIGKILL
    whatever is left of each group."""
    services = list(services)
    for service in services:
        service.stop()
    signals = stopping.signals if stopping else 0
    deadline = time.monotonic() + timeout
    while any(s.running() for s in services) and time.monotonic() < deadline:
        if stopping is not None and stopping.signals > signals:
            break
        if stopping is not None:
            stopping.wait(0.2)
        else:
            time.sleep(0.2)
    for service in services:
        service.kill()


def _watch(fd: int, grace: float = STOP_GRACE_S) -> int:
    """The watchdog: follow the supervisor's list of groups until its pipe closes, then stop them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # outlive a Ctrl-C meant for the supervisor
    groups: set[int] = set()
    with os.fdopen(fd, "rb") as pipe:
        for line in pipe:
            text = line.decode().strip()
            if text[:1] in "+-" and text[1:].isdigit():
                (groups.add if text[0] == "+" else groups.discard)(int(text[1:]))
    alive = [g for g in groups if group_alive(g)]
    if not alive:
        return 0
    print(f"[milea] watchdog: the supervisor is gone; stopping {len(alive)} process group(s)", file=sys.stderr,
          flush=True)
    for pgid in alive:
        signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(group_alive(g) for g in alive):
        time.sleep(0.2)
    for pgid in alive:
        signal_group(pgid, signal.SIGKILL)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["--watch"]:
    sys.exit(_watch(int(sys.argv[2])))
