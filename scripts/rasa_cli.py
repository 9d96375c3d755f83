"""`rasa` with its HTTP API token taken from RASA_AUTH_TOKEN instead of the command line.

A token passed as `--auth-token` is readable by every user of the machine (ps, /proc/<pid>/cmdline)
and lands in process listings and supervisor logs. `make run` and each replica start Rasa as
`python -m scripts.rasa_cli run ...` with the token in the environment; it is handed to Rasa's own
argument parser inside this process only.
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    args = sys.argv[1:]
    token = (os.environ.get("RASA_AUTH_TOKEN") or "").strip()
    if args[:1] == ["run"] and token and "--auth-token" not in args:
        args += ["--auth-token", token]
    sys.argv = ["rasa", *args]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
