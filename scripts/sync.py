"""`make sync`: Commerce7 catalog -> knowledge/ (wines, tastings, merchandise) -> index."""
from __future__ import annotations

import asyncio
import logging
import sys

from core.commerce7.connection import make_client
from core.commerce7.errors import Commerce7Error
from core.commerce7.sync import sync_catalog
from core.service_settings import ServiceSettings
from scripts.progress import bar



async def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    settings = ServiceSettings.from_env()
    async with make_client(settings) as client:
        try:
            report = await sync_catalog(client, settings, progress=bar("[sync] products"))
        except Commerce7Error as exc:
            print(f"[sync] failed, knowledge left as it was: {exc}")
            return 1
    print(f"[sync] {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
