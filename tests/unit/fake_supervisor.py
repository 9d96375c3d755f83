"""A small supervisor built from scripts/processes.py the way scripts/run.py is, for the process
tests: three services, each with a grandchild in its group; `stubborn` ones ignore SIGTERM.

    python -m tests.unit.fake_supervisor PIDFILE normal|stubborn [START_DELAY_S]
"""
from __future__ import annotations

import sys
import time

from scripts.processes import Service, stop_services, supervise

# Each service records its PID and its grandchild's in the PID file, then sleeps.
CHILD = """
import os, signal, subprocess, sys, time
stubborn = sys.argv[2] == "stubborn"
if stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import signal, time\\n" + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n" if stubborn else "") + "time.sleep(600)"
grandchild = subprocess.Popen([sys.executable, "-c", code])
with open(sys.argv[1], "a") as out:
    out.write(f"{os.getpid()}\\n{grandchild.pid}\\n")
time.sleep(600)
"""


def main() -> int:
    stopping = supervise()
    pidfile, mode = sys.argv[1], sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    services = [Service(f"s{i}", [sys.executable, "-c", CHILD, pidfile, mode]) for i in range(3)]
    for service in services:
        service.start()
        time.sleep(delay)  # a slow start-up: a signal may arrive in the middle
    print("ready", flush=True)
    while not stopping.wait(0.5):
        pass
    stop_services(services, stopping)
    stopping.finish()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
