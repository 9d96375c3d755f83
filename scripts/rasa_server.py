"""The Rasa server process: third-party deprecation noise off (core/quiet.py), the tuning
(rasa_tuning/) applied once, then Rasa's own command line.

    .venv/rasa/bin/python -m scripts.rasa_server run --enable-api --port 5005 ...

Started by the supervisor (scripts/run.py, `make run`) and by a replica (scripts/serve_rasa.py,
`make cluster` and docker-compose.yml); the arguments are `rasa`'s, and the API token comes from
RASA_AUTH_TOKEN, never from the command line.
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    from core.quiet import quiet
    from core.settings import shared_settings

    # before Rasa and its libraries are imported; matplotlib (Rasa plots) warns when first imported
    quiet(shared_settings().show_all_warnings, preload=("matplotlib.font_manager",))
    import rasa_tuning

    rasa_tuning.apply(os.environ)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *with_token(sys.argv[1:], os.environ)]
    rasa_main()


def with_token(args: list[str], env) -> list[str]:
    """`rasa run` arguments with the HTTP API token from RASA_AUTH_TOKEN added inside this process.

    A token passed on the command line is readable by every user of the machine (ps,
    /proc/<pid>/cmdline) and lands in process listings and supervisor logs, so the supervisor and the
    replicas hand it over in the environment only.
    """
    token = (env.get("RASA_AUTH_TOKEN") or "").strip()
    if args[:1] == ["run"] and token and "--auth-token" not in args:
        return [*args, "--auth-token", token]
    return list(args)


if __name__ == "__main__":
    main()
