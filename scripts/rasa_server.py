"""The Rasa server process: third-party deprecation noise off (core/quiet.py), the tuning
(rasa_tuning/) applied once, then Rasa's own command line.

    .venv/rasa/bin/python -m scripts.rasa_server run --enable-api --port 5005 ...

Started by the supervisor (scripts/run.py, `make run`) and by a replica (scripts/serve_rasa.py,
`make cluster` and docker-compose.yml); the arguments are `rasa`'s, unchanged.
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    from core.quiet import quiet
    from core.settings import shared_settings

    quiet(shared_settings().show_all_warnings)  # before Rasa and its libraries are imported
    import rasa_tuning

    rasa_tuning.apply(os.environ)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
