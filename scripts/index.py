"""Index knowledge/ into Chroma (incremental): `make index`."""
from __future__ import annotations

import logging
import sys

from core.knowledge.index import sync_index
from actions.settings import Settings
from scripts.progress import bar


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    report = sync_index(settings, progress=bar("[index] embedding"))
    print(f"[index] {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
