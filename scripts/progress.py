"""A one-line text progress bar for the command-line scripts."""
from __future__ import annotations

import sys
from typing import Callable


def bar(label: str, width: int = 30) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        filled = int(width * done / max(total, 1))
        sys.stdout.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stdout.flush()
        if done == total:
            sys.stdout.write("\n")
    return show
