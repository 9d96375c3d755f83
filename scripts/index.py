"""Index knowledge/ into Chroma (incremental): `make index`."""
from __future__ import annotations

import logging
import sys

from actions.knowledge.index import sync_index
from actions.settings import Settings


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()

    def progress(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stdout.write(f"\r[index] embedding [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stdout.flush()
        if done == total:
            sys.stdout.write("\n")

    report = sync_index(settings, progress=progress)
    print(f"[index] {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
